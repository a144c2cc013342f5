import itertools
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketplace import services
from tests.helpers import gid

KEYS = itertools.count()

OPEN = """mutation($input: OpenCaseInput!) { openCase(input: $input) {
  case { id reason status description photos { width height url } buyer { username } seller { username }
         order { status } events { kind } }
  errors { field code } } }"""


@pytest.fixture
def parties(make_user, make_buyer):
    (seller, seller_token), (buyer, buyer_token) = make_user("ava"), make_buyer("marco")
    seller.token, buyer.token = seller_token, buyer_token
    return seller, buyer


@pytest.fixture
def delivered_order(make_listing, django_capture_on_commit_callbacks):
    """An order of `seller`'s bought by `buyer` (its payment captured), shipped and (unless
    `delivered=False`) delivered."""

    def make(seller, buyer, *, delivered=True):
        with django_capture_on_commit_callbacks(execute=True):
            order = services.purchase_listing(
                buyer=buyer, listing=make_listing(seller), idempotency_key=f"case-{next(KEYS)}"
            )
        order = services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
        return services.mark_order_delivered(order=order, actor=buyer) if delivered else order

    return make


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    client = Client()
    client.force_login(admin)
    client.user = admin
    return client


def open_case(gql, token, order, *, reason="DAMAGED", description="The zip is torn.", photos=()):
    """openCase as a multipart request when it carries photos (the GraphQL multipart request spec)."""
    variables = {"input": {"orderId": gid(order), "reason": reason, "description": description, "photos": None}}
    if not photos:
        return gql(OPEN, variables, token=token)["data"]["openCase"]
    variables["input"]["photos"] = [None] * len(photos)
    files = {str(index): SimpleUploadedFile(f"p{index}.jpg", content) for index, content in enumerate(photos)}
    response = gql.http.post(
        "/graphql/",
        {
            "operations": json.dumps({"query": OPEN, "variables": variables}),
            "map": json.dumps({str(index): [f"variables.input.photos.{index}"] for index in range(len(photos))}),
            **files,
        },
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    return response.json()["data"]["openCase"]
