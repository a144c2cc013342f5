"""Saved shipping addresses: one default, validated, their owner's only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace import services
from marketplace.services import addresses
from tests.helpers import gid

pytestmark = pytest.mark.django_db

MY_ADDRESSES = "{ myShippingAddresses { id recipientName city isDefault } }"
ADD_ADDRESS = """mutation($input: AddShippingAddressInput!) {
  addShippingAddress(input: $input) { shippingAddress { id city isDefault } errors { field code } } }"""
UPDATE_ADDRESS = """mutation($input: UpdateShippingAddressInput!) {
  updateShippingAddress(input: $input) { shippingAddress { id city isDefault } errors { field code } } }"""
REMOVE_ADDRESS = """mutation($input: ShippingAddressIdInput!) {
  removeShippingAddress(input: $input) { removedShippingAddressId errors { field code } } }"""
HOME = {"recipientName": "Sam Lee", "line1": "5 Pine St", "city": "Denver", "postalCode": "80202", "country": "us"}


def test_shipping_addresses_one_default(gql, make_user):
    _, token = make_user("sam")
    first = gql(ADD_ADDRESS, {"input": HOME}, token=token)["data"]["addShippingAddress"]
    assert first["errors"] == [] and first["shippingAddress"]["isDefault"] is True  # the first one is
    second = gql(ADD_ADDRESS, {"input": HOME | {"city": "Boulder"}}, token=token)["data"]["addShippingAddress"]
    assert second["shippingAddress"]["isDefault"] is False
    made_default = gql(
        UPDATE_ADDRESS,
        {"input": {"shippingAddressId": second["shippingAddress"]["id"], "makeDefault": True}},
        token=token,
    )["data"]["updateShippingAddress"]
    assert made_default["shippingAddress"] == {
        "id": second["shippingAddress"]["id"],
        "city": "Boulder",
        "isDefault": True,
    }
    assert [a["city"] for a in gql(MY_ADDRESSES, token=token)["data"]["myShippingAddresses"]] == ["Boulder", "Denver"]
    removed = gql(REMOVE_ADDRESS, {"input": {"shippingAddressId": second["shippingAddress"]["id"]}}, token=token)
    assert removed["data"]["removeShippingAddress"]["errors"] == []
    assert gql(MY_ADDRESSES, token=token)["data"]["myShippingAddresses"] == [
        {"id": first["shippingAddress"]["id"], "recipientName": "Sam Lee", "city": "Denver", "isDefault": True}
    ]


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"recipientName": " "}, "recipientName", "REQUIRED"),
        ({"country": "USA"}, "country", "INVALID"),
        ({"postalCode": "1" * 21}, "postalCode", "INVALID"),
    ],
)
def test_addresses_are_validated(gql, make_user, change, field, code):
    _, token = make_user("sam")
    payload = gql(ADD_ADDRESS, {"input": HOME | change}, token=token)["data"]["addShippingAddress"]
    assert payload["errors"] == [{"field": field, "code": code}]


def test_addresses_are_their_owners_and_limited(gql, make_user, make_buyer, monkeypatch):
    buyer, token = make_buyer("marco")
    _, other = make_user("sam")
    address_id = gid(buyer.shipping_addresses.get())
    for mutation, name in ((UPDATE_ADDRESS, "updateShippingAddress"), (REMOVE_ADDRESS, "removeShippingAddress")):
        assert gql(mutation, {"input": {"shippingAddressId": address_id}}, token=other)["data"][name]["errors"] == [
            {"field": "shippingAddressId", "code": "NOT_FOUND"}
        ]
    monkeypatch.setattr(addresses, "MAX_ADDRESSES", 1)
    assert gql(ADD_ADDRESS, {"input": HOME}, token=token)["data"]["addShippingAddress"]["errors"] == [
        {"field": None, "code": "TOO_MANY_ADDRESSES"}
    ]


def test_my_addresses_run_a_fixed_number_of_queries(gql, make_user):
    user, token = make_user("sam")
    gql("{ me { id } }", token=token)  # warm-up: the token's last-used stamp is written once
    counts = []
    for _ in range(2):
        for _ in range(5):
            services.add_shipping_address(
                user=user,
                **{"recipient_name": "Sam", "line1": "1 A St", "city": "Reno", "postal_code": "89501", "country": "US"},
            )
        with CaptureQueriesContext(connection) as captured:
            gql(MY_ADDRESSES, token=token)
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
