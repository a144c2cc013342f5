"""The seller's dashboard: closet visitors, greetings with their results, in fixed queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import services as marketplace_services
from sellers import services
from sellers.models import LastGreeting, SellerToolSettings
from social import services as social_services
from tests.helpers import assert_constant_queries

pytestmark = pytest.mark.django_db

VISITORS = """query($first: Int, $after: String) { closetVisitors(first: $first, after: $after) {
  edges { node { visitor { username followerCount } lastVisitedAt lastGreetedAt canGreet } }
  pageInfo { hasNextPage endCursor } } }"""
GREETINGS = """query($first: Int) { greetings(first: $first) {
  edges { node { visitor { username } automatic replied converted createdAt message { body listings { title } } } } }
}"""
RESULTS = "query($days: Int) { sellerResults(days: $days) { days greetings { sent replied converted } } }"


def visitor_rows(gql, seller, **variables):
    edges = gql(VISITORS, variables, token=seller.token)["data"]["closetVisitors"]["edges"]
    return [
        (edge["node"]["visitor"]["username"], edge["node"]["canGreet"], edge["node"]["lastGreetedAt"] is not None)
        for edge in edges
    ]


def test_closet_visitors_latest_first_with_whether_they_were_greeted(gql, member):
    seller = member("seller")
    now = timezone.now()
    policy = SellerToolSettings.current()
    for name, ago in (
        ("old", timedelta(days=31)),
        ("marco", timedelta(days=1)),
        ("priya", timedelta(hours=2)),
        ("sam", policy.greeting_visit_window + timedelta(hours=1)),
    ):
        social_services.record_closet_visit(visitor=member(name), closet_owner=seller, at=now - ago)
    marco = type(seller).objects.get(username="marco")
    social_services.record_closet_visit(visitor=marco, closet_owner=seller, at=now - timedelta(days=2))
    services.send_greeting(seller=seller, visitor=marco, text="Hi")

    # Marco's latest visit counts, Sam's is too old to greet, and visits past 30 days are gone.
    assert visitor_rows(gql, seller) == [("priya", True, False), ("marco", False, True), ("sam", False, False)]
    first = gql(VISITORS, {"first": 2}, token=seller.token)["data"]["closetVisitors"]
    rest = gql(VISITORS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=seller.token)
    assert [edge["node"]["visitor"]["username"] for edge in rest["data"]["closetVisitors"]["edges"]] == ["sam"]

    LastGreeting.objects.update(greeted_at=now - policy.greeting_period - timedelta(minutes=1))
    assert visitor_rows(gql, seller)[1] == ("marco", True, True)


def test_greetings_show_who_replied_or_bought_and_the_results_add_up(api, gql, member, make_listing):
    seller = member("seller")
    visitors = [member(name) for name in ("marco", "priya", "sam")]
    bought_before = make_listing(seller, title="Bought before")
    marketplace_services.add_shipping_address(
        user=visitors[2], recipient_name="Sam", line1="1 Main St", city="Portland", postal_code="97201", country="US"
    )
    marketplace_services.purchase_listing(buyer=visitors[2], listing=bought_before, idempotency_key="before")
    for visitor in visitors:
        social_services.record_closet_visit(visitor=visitor, closet_owner=seller)
        services.send_greeting(seller=seller, visitor=visitor, text="Hi {visitor_name}")
    social_services.send_message(sender=visitors[0], recipient=seller, body="Thanks! Is the coat negotiable?")
    social_services.send_message(sender=seller, recipient=visitors[1], body="Anything else?")  # not a reply
    marketplace_services.add_shipping_address(
        user=visitors[1], recipient_name="Priya", line1="1 Main St", city="Portland", postal_code="97201", country="US"
    )
    marketplace_services.purchase_listing(
        buyer=visitors[1], listing=make_listing(seller, title="Coat"), idempotency_key="after"
    )

    edges = gql(GREETINGS, token=seller.token)["data"]["greetings"]["edges"]
    assert [
        (edge["node"]["visitor"]["username"], edge["node"]["replied"], edge["node"]["converted"]) for edge in edges
    ] == [("sam", False, False), ("priya", False, True), ("marco", True, False)]
    assert edges[0]["node"]["message"]["body"] == "Hi sam"
    assert gql(RESULTS, token=seller.token)["data"]["sellerResults"] == {
        "days": 30,
        "greetings": {"sent": 3, "replied": 1, "converted": 1},
    }
    refused = gql(RESULTS, {"days": 0}, token=seller.token)
    assert refused["errors"][0]["extensions"]["code"] == "INVALID"
    assert gql(GREETINGS, token=visitors[0].token)["data"]["greetings"]["edges"] == []  # only the sender's


def test_dashboard_lists_run_a_fixed_number_of_queries(gql, member):
    seller = member("seller")
    visitors = []

    def grow_visitors(count):
        for _ in range(count):
            visitor = member(f"visitor{len(visitors)}")
            social_services.record_closet_visit(visitor=visitor, closet_owner=seller)
            visitors.append(visitor)

    assert_constant_queries(gql, VISITORS, {"first": 100}, seller.token, grow_visitors, path=["closetVisitors"])

    greeted = iter(visitors)

    def grow_greetings(count):
        for _ in range(count):
            visitor = next(greeted)
            services.send_greeting(seller=seller, visitor=visitor, text="Hi")
            social_services.send_message(sender=visitor, recipient=seller, body="Hello!")

    assert_constant_queries(gql, GREETINGS, {"first": 100}, seller.token, grow_greetings, path=["greetings"])
