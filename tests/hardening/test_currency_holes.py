"""Findings 2 and 3 of the attacker's review, as they sent them: a binding offer must not change
currency, a bundle must not hold two, and the buyers hear when their offer or bundle item ends."""

from decimal import Decimal
from functools import partial

import pytest

from marketplace import services
from marketplace.models import Bundle, BundleItem, Offer, Order
from tests.helpers import gid, race
from tests.marketplace.checkout_api import ERRORS, make_offer, purchase, respond

pytestmark = pytest.mark.django_db

UPDATE = f"""mutation($input: UpdateListingInput!) {{
  updateListing(input: $input) {{ listing {{ status price {{ amount currency }} }} {ERRORS} }} }}"""
ADD = f"mutation($input: ListingIdInput!) {{ addToBundle(input: $input) {{ bundle {{ id }} {ERRORS} }} }}"
CHECKOUT = f"""mutation($input: CheckoutBundleInput!) {{
  checkoutBundle(input: $input) {{ order {{ id total {{ amount currency }} }} {ERRORS} }} }}"""
INBOX = "{ notifications(first: 20) { edges { node { title body } } } }"


def update(gql, token, listing, **fields):
    return gql(UPDATE, {"input": {"listingId": gid(listing), **fields}}, token=token)["data"]["updateListing"]


def inbox(gql, token):
    return [edge["node"] for edge in gql(INBOX, token=token)["data"]["notifications"]["edges"]]


@pytest.fixture
def seller(make_user):
    return make_user("ava")


@pytest.fixture
def buyer(make_buyer):
    return make_buyer("marco")


def test_a_binding_offer_never_changes_currency(api, gql, seller, buyer, make_listing):
    listing = make_listing(seller[0], price="95.00")
    offer = make_offer(gql, buyer[1], "90.00", listing=listing)["offer"]
    assert update(api, seller[1], listing, status="DRAFT")["errors"] == []
    assert update(api, seller[1], listing, currency="GBP", status="AVAILABLE")["errors"] == []
    answer = respond(gql, seller[1], offer["id"], "ACCEPT")
    assert answer["errors"] == [{"field": "offerId", "code": "OFFER_NOT_PENDING"}]
    assert not Order.objects.exists()
    assert Offer.objects.get().status == Offer.Status.CANCELLED
    assert any("90.00 USD no longer stands" in note["body"] for note in inbox(gql, buyer[1]))


def test_accepting_refuses_an_offer_whose_listing_is_priced_in_another_currency(gql, seller, buyer, make_listing):
    """Defence in depth: an offer left pending by any path is still bought only in its currency."""
    listing = make_listing(seller[0], price="95.00")
    offer = make_offer(gql, buyer[1], "90.00", listing=listing)["offer"]
    type(listing).objects.filter(pk=listing.pk).update(currency="GBP")
    answer = respond(gql, seller[1], offer["id"], "ACCEPT")
    assert answer["errors"] == [{"field": "listingId", "code": "CURRENCY_CHANGED"}]
    assert not Order.objects.exists()


def test_a_move_to_draft_takes_the_listing_out_of_open_bundles_and_tells_the_buyer(
    api, gql, seller, buyer, make_listing
):
    usd = make_listing(seller[0], title="Jacket", price="20.00")
    other = make_listing(seller[0], price="30.00")
    assert gql(ADD, {"input": {"listingId": gid(usd)}}, token=buyer[1])["data"]["addToBundle"]["errors"] == []
    gql(ADD, {"input": {"listingId": gid(other)}}, token=buyer[1])
    update(api, seller[1], usd, status="DRAFT")
    update(api, seller[1], usd, currency="GBP", status="AVAILABLE")
    assert list(BundleItem.objects.values_list("listing_id", flat=True)) == [other.pk]
    assert any(note["title"] == "An item left your bundle" for note in inbox(gql, buyer[1]))
    # The draft trick no longer mixes currencies: adding the GBP item back is refused.
    refused = gql(ADD, {"input": {"listingId": gid(usd)}}, token=buyer[1])["data"]["addToBundle"]
    assert refused["errors"] == [{"field": "listingId", "code": "INVALID_CURRENCY"}]


def test_checkout_refuses_a_basket_of_mixed_currencies(gql, seller, buyer, make_listing):
    """However a bundle came to hold two currencies, it is never charged as one."""
    usd, gbp = make_listing(seller[0], price="20.00"), make_listing(seller[0], price="30.00", currency="GBP")
    gql(ADD, {"input": {"listingId": gid(usd)}}, token=buyer[1])
    BundleItem.objects.create(bundle=Bundle.objects.get(), listing=gbp)
    variables = {"input": {"bundleId": gid(Bundle.objects.get()), "idempotencyKey": "mixed-basket-1"}}
    answer = gql(CHECKOUT, variables, token=buyer[1])["data"]["checkoutBundle"]
    assert answer == {"order": None, "errors": [{"field": "bundleId", "code": "MIXED_CURRENCIES"}]}
    assert not Order.objects.exists()


def test_removal_ends_offers_to_likers_and_tells_the_liker(
    django_capture_on_commit_callbacks, gql, seller, buyer, make_listing
):
    listing = make_listing(seller[0], price="40.00")
    services.create_offer(buyer=buyer[0], listing=listing, amount=Decimal("30.00"), source=Offer.Source.OFFER_TO_LIKERS)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_listing(listing=listing)
    assert Offer.objects.get().status == Offer.Status.CANCELLED
    assert any("was removed" in note["body"] for note in inbox(gql, buyer[1]))


def test_buy_now_is_charged_in_the_currency_shown(gql, seller, buyer, make_listing):
    listing = make_listing(seller[0], price="20.00")
    order = purchase(gql, buyer[1], listing)["order"]
    assert order["total"]["currency"] == "USD" and order["lines"][0]["price"]["amount"] == "20.00"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_currency_change_racing_an_acceptance_never_charges_the_other_currency(gql, seller, buyer, make_listing):
    """The seller accepts while (on another connection) they move the listing to draft and
    switch it to GBP: either the order is in USD at the offer, or there is no order."""
    for attempt in range(6):
        listing = make_listing(seller[0], title=f"Coat {attempt}", price="95.00")
        offer = make_offer(gql, buyer[1], "90.00", listing=listing)["offer"]

        race([partial(_draft_then_gbp, listing), partial(respond, gql, seller[1], offer["id"], "ACCEPT")])
        for order in Order.objects.filter(lines__listing=listing):
            assert (order.currency, order.item_total) == ("USD", Decimal("90.00"))


def _draft_then_gbp(listing):
    services.update_listing(listing=listing, status="draft")
    services.update_listing(listing=listing, currency="GBP", status="available")
