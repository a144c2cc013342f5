import hashlib
import hmac
import json
from itertools import count

import pytest

from marketplace.models import Order
from tests.fakes.easypost_api import API_KEY, FakeEasyPost
from tests.helpers import gid
from tests.marketplace.checkout_api import PURCHASE

WEBHOOK_SECRET = "whsec-local-test"
KEYS = count(1)

SHIPMENT = """shipment { carrier service trackingCode labelUrl status
  events { status message location at } }"""
ORDER_SHIPMENT = f"query($id: ID!) {{ order(id: $id) {{ status deliveredAt trackingNumber carrier {SHIPMENT} }} }}"


@pytest.fixture
def easypost_api(settings):
    """The official SDK against a local fake of EasyPost's API, and the webhook's secret."""
    fake = FakeEasyPost().start()
    settings.SHIPPING_CARRIER = "easypost"
    settings.EASYPOST_API_KEY = API_KEY
    settings.EASYPOST_API_BASE = fake.api_base
    settings.EASYPOST_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.EASYPOST_TIMEOUT = 0.5
    yield fake
    fake.stop()


@pytest.fixture
def parties(make_buyer):
    """(seller, seller token, buyer, buyer token): both with a default address, the seller's to ship from."""
    seller, seller_token = make_buyer("ava")
    buyer, buyer_token = make_buyer("marco")
    return seller, seller_token, buyer, buyer_token


@pytest.fixture
def place_order(api, parties, make_listing):
    """The buyer purchases a new listing of the seller through GraphQL, on-commit work run: the Order."""
    seller, _, _, buyer_token = parties

    def place(**listing_fields):
        listing = make_listing(seller, **listing_fields)
        variables = {"input": {"listingId": gid(listing), "idempotencyKey": f"ship-key-{next(KEYS)}"}}
        body = api(PURCHASE, variables, token=buyer_token)
        assert body["data"]["purchaseListing"]["errors"] == [], body
        return Order.objects.get(lines__listing=listing)

    return place


def order_shipment(gql, token, order) -> dict:
    body = gql(ORDER_SHIPMENT, {"id": gid(order)}, token=token)
    assert "errors" not in body, body
    return body["data"]["order"]


def tracker_event(tracker_id, status, updated_at, details=()) -> bytes:
    """An EasyPost `tracker.updated` event as its webhook posts it."""
    return json.dumps(
        {
            "id": "evt_local",
            "object": "Event",
            "description": "tracker.updated",
            "result": {
                "id": tracker_id,
                "object": "Tracker",
                "status": status,
                "updated_at": updated_at,
                "tracking_details": [
                    {
                        "object": "TrackingDetail",
                        "status": detail_status,
                        "message": message,
                        "datetime": at,
                        "tracking_location": {"city": "PORTLAND", "state": "OR", "country": "US"},
                    }
                    for detail_status, message, at in details
                ],
            },
        }
    ).encode()


def signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def post_webhook(client, django_capture_on_commit_callbacks):
    """POST a body to /webhooks/easypost/ signed with the secret (or `sign=` something else)."""

    def post(body: bytes, sign=signature):
        headers = {"HTTP_X_HMAC_SIGNATURE": sign(body)} if sign else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/webhooks/easypost/", data=body, content_type="application/json", **headers)

    return post
