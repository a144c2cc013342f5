"""The business-rule matrix (business_rules.py): every path on another member's object and every
money path has a rule proved by tests that exist; curation (own and others' listings x the
owner's terms x the actor's role in the show), bidding (roles) and currency (offer, bundle,
checkout, buy-now, add-on) cell by cell, through GraphQL as a member would send them."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from graphene.utils.str_converters import to_camel_case
from graphql import get_named_type

from accounts.schema import Mutation as AccountMutations
from config.graphql.schema import schema
from live import services as live_services
from live.models import Auction, ShowListing
from marketplace import services
from marketplace.models import Bundle, Listing, Order, OrderLine
from tests.hardening.business_rules import (
    ACCOUNT_PATHS,
    CHAT_PATHS,
    DEVICE_PATHS,
    IDENTITY_PATHS,
    MONEY_PATHS,
    PATHS,
    RULES,
)
from tests.helpers import gid

MUTATIONS = schema.graphql_schema.mutation_type.fields
MONEY_TYPES = {"Order", "Offer", "Bundle", "Bid", "Auction"}


def _id_inputs(field) -> list[str]:
    argument = field.args.get("input")
    if argument is None:
        return []
    return [
        name
        for name, input_field in get_named_type(argument.type).fields.items()
        if get_named_type(input_field.type).name == "ID"
    ]


def _moves_money(field) -> bool:
    return any(
        get_named_type(payload_field.type).name in MONEY_TYPES
        for payload_field in get_named_type(field.type).fields.values()
    )


def test_every_path_on_an_object_by_id_has_a_business_rule():
    missing = sorted(
        name
        for name, field in MUTATIONS.items()
        if name not in PATHS and [i for i in _id_inputs(field) if i != "categoryId"]
    )
    assert not missing, f"say in tests/hardening/business_rules.py PATHS which rules bind: {missing}"


def test_every_money_path_has_a_currency_rule():
    missing = sorted(name for name, field in MUTATIONS.items() if _moves_money(field) and name not in MONEY_PATHS)
    assert not missing, f"say in tests/hardening/business_rules.py MONEY_PATHS which rules bind: {missing}"


def _input_names(field) -> set[str]:
    argument = field.args.get("input")
    return set(get_named_type(argument.type).fields) if argument is not None else set()


def _returns(field, type_name: str) -> bool:
    return any(
        get_named_type(payload_field.type).name == type_name
        for payload_field in get_named_type(field.type).fields.values()
    )


def test_every_identity_path_has_a_rule():
    taking = sorted(
        name
        for name, field in MUTATIONS.items()
        if any(
            word in input_name.lower()
            for input_name in _input_names(field)
            for word in ("username", "email", "password")
        )
    )
    missing = [name for name in taking if name not in IDENTITY_PATHS]
    assert not missing, f"say in tests/hardening/business_rules.py IDENTITY_PATHS which rules bind: {missing}"


def test_every_device_token_path_has_a_rule():
    taking = sorted(
        name for name, field in MUTATIONS.items() if "token" in _input_names(field) or _returns(field, "Device")
    )
    missing = [name for name in taking if name not in DEVICE_PATHS]
    assert not missing, f"say in tests/hardening/business_rules.py DEVICE_PATHS which rules bind: {missing}"


def test_every_show_chat_path_has_a_rule():
    taking = sorted(
        name for name, field in MUTATIONS.items() if _returns(field, "ShowMessage") or "words" in _input_names(field)
    )
    missing = [name for name in taking if name not in CHAT_PATHS]
    assert not missing, f"say in tests/hardening/business_rules.py CHAT_PATHS which rules bind: {missing}"


def test_every_account_mutation_has_an_account_rule():
    names = {to_camel_case(name) for name in AccountMutations._meta.fields}
    missing = sorted(names - set(ACCOUNT_PATHS))
    assert not missing, f"say in tests/hardening/business_rules.py ACCOUNT_PATHS which rules bind: {missing}"
    assert not set(ACCOUNT_PATHS) - names, set(ACCOUNT_PATHS) - names


def test_every_rule_is_named_and_proved_by_tests_that_exist():
    paths = (PATHS, MONEY_PATHS, IDENTITY_PATHS, DEVICE_PATHS, CHAT_PATHS, ACCOUNT_PATHS)
    named = {rule for table in paths for rules in table.values() for rule in rules}
    assert named <= set(RULES), named - set(RULES)
    for name, rule in RULES.items():
        assert rule.proved_by, name
        for proof in rule.proved_by:
            path, test = proof.split("::")
            module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            assert callable(getattr(module, test, None)), f"{name}: {proof} does not exist"
    for table in paths:
        assert not set(table) - set(MUTATIONS), set(table) - set(MUTATIONS)


# Curation: own and others' listings x the owner's terms x the actor's role --------------------

ADD = """mutation($input: ShowListingInput!) { addShowListing(input: $input) { errors { code } } }"""
AUCTION = """mutation($input: StartShowAuctionInput!) {
  startShowAuction(input: $input) { errors { code } } }"""
BID = """mutation($input: PlaceBidInput!) { placeBid(input: $input) { errors { code } } }"""
TERMS = {
    "default": {},
    "no_curation": {"allow_curation": False},
    "auctions_at_80": {"allow_auctions": True, "auction_floor_percent": 80},
}
# What another member's listing meets, by its owner's terms and the action (40.00 listings: 80% is 32.00).
OTHERS = {
    ("default", "curate"): None,
    ("default", "auction_from_1"): "AUCTION_NOT_ALLOWED",
    ("default", "auction_from_32"): "AUCTION_NOT_ALLOWED",
    ("no_curation", "curate"): "CURATION_NOT_ALLOWED",
    ("no_curation", "auction_from_1"): "AUCTION_NOT_ALLOWED",
    ("no_curation", "auction_from_32"): "AUCTION_NOT_ALLOWED",
    ("auctions_at_80", "curate"): None,
    ("auctions_at_80", "auction_from_1"): "BELOW_AUCTION_FLOOR",
    ("auctions_at_80", "auction_from_32"): None,
}
# Who acts, on whose listing: their own (never bound), another member's, or (a co-host) the host's.
ACTOR_OWNER = [("host", "actor"), ("host", "stranger"), ("cohost", "actor"), ("cohost", "stranger"), ("cohost", "host")]


@pytest.fixture
def room(make_user, make_listing):
    people = {name: make_user(name) for name in ("host", "cohost", "stranger")}
    show = live_services.create_show(
        host=people["host"][0], title="Matrix night", scheduled_start=timezone.now() + timedelta(hours=1)
    )
    live_services.invite_cohost(show=show, host=people["host"][0], invitee=people["cohost"][0])
    live_services.respond_to_cohost_invite(show=show, user=people["cohost"][0], accept=True)
    live_services.start_show(show=show, user=people["host"][0])
    return show, people


@pytest.mark.django_db
@pytest.mark.parametrize("terms", TERMS)
@pytest.mark.parametrize("actor, owner", ACTOR_OWNER)
@pytest.mark.parametrize("action", ("curate", "auction_from_1", "auction_from_32"))
def test_curation_matrix(gql, room, make_listing, actor, owner, terms, action):
    show, people = room
    owner_user = people[actor if owner == "actor" else owner][0]
    listing = make_listing(owner_user, price="40.00")
    services.update_curation_terms(seller=owner_user, **TERMS[terms])
    if action == "curate":
        body = gql(ADD, {"input": {"showId": gid(show), "listingId": gid(listing)}}, token=people[actor][1])
    else:  # it was curated before its owner set these terms
        ShowListing.objects.create(show=show, listing=listing, added_by=people[actor][0], position=9)
        body = gql(
            AUCTION,
            {
                "input": {
                    "showId": gid(show),
                    "listingId": gid(listing),
                    "durationSeconds": 30,
                    "startPrice": "1.00" if action == "auction_from_1" else "32.00",
                }
            },
            token=people[actor][1],
        )
    errors = next(iter(body["data"].values()))["errors"]
    expected = None if owner == "actor" else OTHERS[(terms, action)]
    assert errors == ([{"code": expected}] if expected else [])
    if action != "curate":
        assert Auction.objects.exists() == (expected is None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bidder, code",
    [
        ("host", "SHOW_STAFF_CANNOT_BID"),
        ("cohost", "SHOW_STAFF_CANNOT_BID"),
        ("seller", "CANNOT_BUY_OWN_LISTING"),
        ("viewer", None),
    ],
)
def test_bidding_matrix(gql, room, make_buyer, make_listing, bidder, code):
    show, people = room
    people["seller"], people["viewer"] = make_buyer("seller"), make_buyer("viewer")
    for name in ("host", "cohost"):
        services.add_shipping_address(
            user=people[name][0],
            recipient_name=name,
            line1="1 Main St",
            city="Portland",
            region="OR",
            postal_code="97201",
            country="US",
        )
    listing = make_listing(people["seller"][0], price="40.00")
    services.update_curation_terms(seller=people["seller"][0], allow_auctions=True, auction_floor_percent=50)
    live_services.add_show_listing(show=show, user=people["host"][0], listing=listing)
    auction = live_services.start_auction(
        show=show, user=people["host"][0], listing=listing, start_price=Decimal("20.00"), duration_seconds=30
    )
    body = gql(BID, {"input": {"auctionId": gid(auction), "amount": "20.00"}}, token=people[bidder][1])
    assert body["data"]["placeBid"]["errors"] == ([{"code": code}] if code else [])


# Currency: each money path, with the listing's currency moved under it -------------------------

OFFER = """mutation($input: MakeOfferInput!) { makeOffer(input: $input) { offer { id } errors { code } } }"""
RESPOND = """mutation($input: RespondToOfferInput!) { respondToOffer(input: $input) { errors { code } } }"""
CHECKOUT = """mutation($input: CheckoutBundleInput!) { checkoutBundle(input: $input) { errors { code } } }"""
PURCHASE = """mutation($input: PurchaseListingInput!) { purchaseListing(input: $input) {
  order { total { currency } lines { price { amount currency } } } errors { code } } }"""
ADD_ON = """mutation($input: AddToOrderInput!) { addToOrder(input: $input) { errors { code } } }"""


def _regrade(listing, currency="GBP"):
    """The listing now in another currency (by any path: the matrix holds whatever the path)."""
    Listing.objects.filter(pk=listing.pk).update(currency=currency)


def _offer_accept(gql, seller, buyer, listings):
    offer_id = gql(OFFER, {"input": {"listingId": gid(listings[0]), "amount": "30.00"}}, token=buyer[1])["data"][
        "makeOffer"
    ]["offer"]["id"]
    _regrade(listings[0])
    return gql(RESPOND, {"input": {"offerId": offer_id, "action": "ACCEPT"}}, token=seller[1])["data"][
        "respondToOffer"
    ]["errors"]


def _bundle(buyer, listings):
    for listing in listings:
        services.add_to_bundle(buyer=buyer[0], listing=listing)
    return Bundle.objects.get()


def _bundle_checkout(gql, seller, buyer, listings):
    bundle = _bundle(buyer, listings)
    _regrade(listings[1])
    return gql(CHECKOUT, {"input": {"bundleId": gid(bundle), "idempotencyKey": "matrix-bundle-1"}}, token=buyer[1])[
        "data"
    ]["checkoutBundle"]["errors"]


def _bundle_offer(gql, seller, buyer, listings):
    bundle = _bundle(buyer, listings)
    _regrade(listings[1])
    return gql(OFFER, {"input": {"bundleId": gid(bundle), "amount": "60.00"}}, token=buyer[1])["data"]["makeOffer"][
        "errors"
    ]


def _add_to_bundle(gql, seller, buyer, listings):
    _bundle(buyer, listings[:1])
    _regrade(listings[1])
    return gql(
        """mutation($input: ListingIdInput!) { addToBundle(input: $input) { errors { code } } }""",
        {"input": {"listingId": gid(listings[1])}},
        token=buyer[1],
    )["data"]["addToBundle"]["errors"]


def _buy_now(gql, seller, buyer, listings):
    _regrade(listings[0])
    answer = gql(
        PURCHASE, {"input": {"listingId": gid(listings[0]), "idempotencyKey": "matrix-buy-1"}}, token=buyer[1]
    )["data"]["purchaseListing"]
    assert answer["order"]["lines"][0]["price"] == {"amount": "40.00", "currency": "GBP"}  # as shown
    return answer["errors"]


def _add_on(gql, seller, buyer, listings):
    order = services.purchase_listing(buyer=buyer[0], listing=listings[0], idempotency_key="matrix-first-1")
    _regrade(listings[1])
    variables = {"input": {"orderId": gid(order), "listingId": gid(listings[1]), "idempotencyKey": "matrix-add-on-1"}}
    return gql(ADD_ON, variables, token=buyer[1])["data"]["addToOrder"]["errors"]


CURRENCY_CELLS = {
    "offer_accept": (_offer_accept, "CURRENCY_CHANGED"),
    "bundle_checkout": (_bundle_checkout, "MIXED_CURRENCIES"),
    "bundle_offer": (_bundle_offer, "MIXED_CURRENCIES"),
    "add_to_bundle": (_add_to_bundle, "INVALID_CURRENCY"),
    "buy_now": (_buy_now, None),
    "add_on": (_add_on, "INVALID_CURRENCY"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("cell", CURRENCY_CELLS)
def test_currency_matrix(gql, make_user, make_buyer, make_listing, cell):
    seller, buyer = make_user("ava"), make_buyer("marco")
    listings = [make_listing(seller[0], title=f"Item {n}", price="40.00") for n in range(2)]
    path, code = CURRENCY_CELLS[cell]
    errors = path(gql, seller, buyer, listings)
    assert [error["code"] for error in errors] == ([code] if code else [])
    if code:  # nothing of the other currency was sold, nor bundled with the first
        assert not OrderLine.objects.filter(listing__currency="GBP").exists()
        assert not Order.objects.exclude(currency="USD").exists()
