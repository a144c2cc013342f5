"""Offers to likers: one private offer per liker through the offers path, accepted once or lapsing."""

import threading
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone

from config.errors import ServiceError
from marketplace import services as marketplace_services
from marketplace.models import Offer, Order
from notifications.models import Notification
from sellers.models import OfferToLikers
from social import services as social_services
from tests.helpers import assert_constant_queries, gid
from tests.marketplace.checkout_api import ERRORS, OFFER, respond

pytestmark = pytest.mark.django_db

OFFER_TO_LIKERS = f"""mutation($input: OfferToLikersInput!) {{ offerToLikers(input: $input) {{
  offerToLikers {{ amount {{ amount }} shippingDiscount {{ amount }} sent skipped accepted expired }} {ERRORS} }} }}"""
CAMPAIGNS = """query($listingId: ID!, $first: Int) { offersToLikers(listingId: $listingId, first: $first) {
  edges { node { amount { amount } sent skipped accepted expired } } } }"""
MY_OFFERS = f"{{ myOffers(role: BUYER) {{ edges {{ node {OFFER} }} }} }}"
RESULTS = "{ sellerResults { offersToLikers { sent accepted expired } } }"


@pytest.fixture
def seller(make_user):
    user, token = make_user("seller")
    user.token = token
    return user


@pytest.fixture
def likers(make_buyer):
    """Three members with a shipping address, each with `.token`."""
    people = []
    for name in ("marco", "priya", "sam"):
        user, token = make_buyer(name)
        user.token = token
        people.append(user)
    return people


@pytest.fixture
def listing(make_listing, seller, likers):
    """A 100.00 coat (5 in stock) that every liker likes."""
    coat = make_listing(seller, title="Wool coat", price="100.00", quantity=5)
    for liker in likers:
        social_services.like_listing(user=liker, listing=coat)
    return coat


def offer_to_likers(api, seller, listing, price, **extra):
    variables = {"input": {"listingId": gid(listing), "price": price, **extra}}
    return api(OFFER_TO_LIKERS, variables, token=seller.token)["data"]["offerToLikers"]


def offer_of(liker) -> Offer:
    return Offer.objects.filter(buyer=liker, source=Offer.Source.OFFER_TO_LIKERS).latest("pk")


def test_each_liker_gets_a_private_offer_and_can_accept_it_once(api, seller, likers, listing):
    payload = offer_to_likers(api, seller, listing, "80.00", shippingDiscount="2.00")
    assert payload == {
        "offerToLikers": {
            "amount": {"amount": "80.00"},
            "shippingDiscount": {"amount": "2.00"},
            "sent": 3,
            "skipped": 0,
            "accepted": 0,
            "expired": 0,
        },
        "errors": [],
    }
    assert sorted(
        Notification.objects.filter(kind="offer_to_likers").values_list("recipient__username", flat=True)
    ) == ["marco", "priya", "sam"]
    offer = offer_of(likers[0])
    assert offer.expires_at - offer.created_at == timedelta(hours=24)

    for _ in range(2):  # a retried acceptance buys once
        accepted = respond(api, likers[0].token, gid(offer), "ACCEPT")
        assert accepted["errors"] == [] and accepted["offer"]["status"] == "ACCEPTED"
    order = Order.objects.get(buyer=likers[0])
    assert (order.item_total, order.total) == (Decimal("80.00"), Decimal("84.49"))  # 6.49 label, 2.00 off
    assert respond(api, likers[1].token, gid(offer), "ACCEPT")["errors"] == [{"field": "offerId", "code": "NOT_FOUND"}]
    assert respond(api, likers[1].token, gid(offer_of(likers[1])), "ACCEPT")["errors"] == []
    assert Order.objects.count() == 2

    campaign = api(CAMPAIGNS, {"listingId": gid(listing)}, token=seller.token)["data"]["offersToLikers"]["edges"]
    assert campaign == [{"node": {"amount": {"amount": "80.00"}, "sent": 3, "skipped": 0, "accepted": 2, "expired": 0}}]


def test_expired_offers_cannot_be_accepted(api, seller, likers, listing):
    offer_to_likers(api, seller, listing, "80.00")
    offer = offer_of(likers[0])
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert respond(api, likers[0].token, gid(offer), "ACCEPT")["errors"] == [
        {"field": "offerId", "code": "OFFER_NOT_PENDING"}
    ]
    assert not Order.objects.exists()
    assert api(RESULTS, token=seller.token)["data"]["sellerResults"]["offersToLikers"] == {
        "sent": 3,
        "accepted": 0,
        "expired": 1,
    }


def test_the_price_is_at_least_ten_percent_below_and_above_the_floor(api, seller, listing):
    assert offer_to_likers(api, seller, listing, "90.01")["errors"] == [{"field": "amount", "code": "OFFER_TOO_HIGH"}]
    assert offer_to_likers(api, seller, listing, "39.99")["errors"] == [{"field": "amount", "code": "OFFER_TOO_LOW"}]
    assert not Offer.objects.exists() and not OfferToLikers.objects.exists()  # all or nothing
    assert offer_to_likers(api, seller, listing, "90.00")["offerToLikers"]["sent"] == 3


@pytest.mark.parametrize(
    "price, extra, field",
    [
        ("NaN", {}, "amount"),
        ("-5.00", {}, "amount"),
        ("50.00", {"shippingDiscount": "1e12"}, "shippingDiscount"),
        ("50.00", {"shippingDiscount": "-1.00"}, "shippingDiscount"),
    ],
)
def test_figures_no_offer_could_carry_are_refused_even_without_likers(api, make_listing, seller, price, extra, field):
    # Found by the fuzzer: with nobody to offer to, the campaign row took them (a 500 on PostgreSQL).
    unliked = make_listing(seller, title="Silk scarf", price="100.00")
    assert offer_to_likers(api, seller, unliked, price, **extra)["errors"] == [
        {"field": field, "code": "INVALID_PRICE"}
    ]
    assert not OfferToLikers.objects.exists()


def test_one_active_offer_per_liker_and_re_offers_only_ten_percent_lower(api, seller, likers, listing):
    offer_to_likers(api, seller, listing, "90.00")
    assert offer_to_likers(api, seller, listing, "70.00")["offerToLikers"]["skipped"] == 3  # all still pending

    Offer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = offer_to_likers(api, seller, listing, "81.01")["offerToLikers"]
    assert (again["sent"], again["skipped"]) == (0, 3)  # not 10% below the 90.00 they got
    again = offer_to_likers(api, seller, listing, "81.00")["offerToLikers"]
    assert (again["sent"], again["skipped"]) == (3, 0)

    Offer.objects.update(
        expires_at=timezone.now() - timedelta(seconds=1), created_at=timezone.now() - timedelta(days=91)
    )
    assert offer_to_likers(api, seller, listing, "80.00")["offerToLikers"]["sent"] == 3  # 90 days on, any discount


def test_only_current_likers_are_offered_not_the_seller_a_buyer_or_the_blocked(
    api, seller, likers, listing, make_buyer
):
    social_services.like_listing(user=seller, listing=listing)
    marketplace_services.purchase_listing(buyer=likers[0], listing=listing, idempotency_key="bought")
    social_services.block_user(blocker=likers[1], blocked=seller)
    social_services.unlike_listing(user=likers[2], listing=listing)
    newcomer, _ = make_buyer("newcomer")
    social_services.like_listing(user=newcomer, listing=listing)

    assert offer_to_likers(api, seller, listing, "80.00")["offerToLikers"]["sent"] == 1
    assert list(Offer.objects.values_list("buyer__username", flat=True)) == ["newcomer"]


def test_only_the_seller_offers_and_sees_the_offers(api, gql, seller, likers, listing):
    assert offer_to_likers(api, likers[0], listing, "80.00")["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    offer_to_likers(api, seller, listing, "80.00")
    refused = gql(CAMPAIGNS, {"listingId": gid(listing)}, token=likers[0].token)
    assert refused["data"]["offersToLikers"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Each liker sees their own offer, private to them.
    offers = gql(MY_OFFERS, token=likers[0].token)["data"]["myOffers"]["edges"]
    assert [(edge["node"]["source"], edge["node"]["turn"], edge["node"]["amount"]["amount"]) for edge in offers] == [
        ("OFFER_TO_LIKERS", "BUYER", "80.00")
    ]


def test_the_offers_list_runs_a_fixed_number_of_queries(gql, seller, likers, listing):
    from sellers import services

    def grow(count):
        for _ in range(count):
            Offer.objects.update(
                expires_at=timezone.now() - timedelta(seconds=1), created_at=timezone.now() - timedelta(days=91)
            )
            services.offer_to_likers(seller=seller, listing=listing, amount=Decimal("80.00"))

    assert_constant_queries(
        gql,
        CAMPAIGNS,
        {"listingId": gid(listing), "first": 100},
        seller.token,
        grow,
        path=["offersToLikers"],
        sizes=(5, 20),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accepting_an_offer_while_someone_buys_the_item_leaves_one_winner(make_user, make_buyer, make_listing):
    from sellers import services

    seller, _ = make_user("seller")
    for round_number in range(3):
        liker, _ = make_buyer(f"liker{round_number}")
        shopper, _ = make_buyer(f"shopper{round_number}")
        listing = make_listing(seller, title=f"Coat {round_number}", price="100.00")
        social_services.like_listing(user=liker, listing=listing)
        services.offer_to_likers(seller=seller, listing=listing, amount=Decimal("80.00"))
        offer = Offer.objects.get(buyer=liker)
        outcomes = _race(
            partial(marketplace_services.respond_to_offer, offer=offer, actor=liker, action="accept"),
            partial(
                marketplace_services.purchase_listing,
                buyer=shopper,
                listing=listing,
                idempotency_key=f"buy-{round_number}",
            ),
        )
        assert sorted(outcomes)[0] == "bought" and sorted(outcomes)[1] != "bought", outcomes
        assert Order.objects.filter(lines__listing=listing).count() == 1


def _race(*actions) -> list[str]:
    """Run the actions at once, each on its own thread and connection; what each ended in."""
    barrier = threading.Barrier(len(actions))
    outcomes = []

    def attempt(action):
        try:
            barrier.wait()
            action()
            outcomes.append("bought")
        except ServiceError as refusal:
            outcomes.append(refusal.errors[0].code.value)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
