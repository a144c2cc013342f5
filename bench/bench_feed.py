"""Feed of 50 listing cards: GraphQL `feed` through /graphql/ vs a plain Django JSON view.

Both go through the Django test Client and the whole middleware stack, authenticate the same
bearer token, and read the same queryset (discovery.selectors.feed + marketplace.selectors.listing_cards); the plain
view serialises it by hand. Targets (DESIGN.md §6): a constant SQL query count, and GraphQL
throughput at least 0.5× the plain view.
"""

import time
from decimal import Decimal

from django.db import connection
from django.http import JsonResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import path
from graphql_relay import to_global_id

from accounts import services as account_services
from accounts.selectors import user_for_bearer_header
from config.graphql.views import GraphQLEndpoint
from config.media import absolute_url
from discovery import selectors as discovery
from marketplace import selectors, services
from marketplace.models import Category, ListingImage
from social import services as social

PAGE = 50
SECONDS = 3.0
FEED = """query { feed(first: 50) { edges { node {
  id title price { amount currency } likeCount viewerHasLiked
  seller { id username } coverImage { url(size: MEDIUM) }
} } } }"""


def plain_feed(request):
    """The same cards as FEED, from the same selector, serialised without GraphQL."""
    viewer = user_for_bearer_header(request.headers.get("Authorization", ""))
    listings = selectors.listing_cards(discovery.feed(viewer), viewer).order_by("-feed_at", "-pk")[:PAGE]
    edges = []
    for listing in listings:
        images = listing.images.all()
        cover = images[0] if images else None
        edges.append(
            {
                "node": {
                    "id": to_global_id("Listing", listing.pk),
                    "title": listing.title,
                    "price": {"amount": str(listing.price), "currency": listing.currency},
                    "likeCount": listing.like_count,
                    "viewerHasLiked": listing.viewer_has_liked,
                    "seller": {"id": to_global_id("User", listing.seller.pk), "username": listing.seller.username},
                    "coverImage": {"url": absolute_url(request, cover.renditions.get("medium", cover.original))}
                    if cover
                    else None,
                }
            }
        )
    return JsonResponse({"data": {"feed": {"edges": edges}}})


urlpatterns = [path("graphql/", GraphQLEndpoint.as_view()), path("plain/feed/", plain_feed)]


def run(report):
    token = _build_world()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    with override_settings(ROOT_URLCONF=__name__):
        graphql = lambda: client.post("/graphql/", {"query": FEED}, content_type="application/json")  # noqa: E731
        plain = lambda: client.get("/plain/feed/")  # noqa: E731
        graphql_body, plain_body = graphql().json(), plain().json()
        assert graphql_body == plain_body, "the two endpoints must serve the same data"
        assert len(graphql_body["data"]["feed"]["edges"]) == PAGE
        graphql_queries, plain_queries = _queries(graphql), _queries(plain)
        plain_rate = _rate(plain)
        graphql_rate = _rate(graphql)
    report.add(
        "feed",
        "GraphQL feed of 50 cards",
        graphql_rate,
        "req/s",
        baseline=plain_rate,
        baseline_label="plain Django JSON view",
        target="≥ 0.5× plain view",
        met=graphql_rate >= 0.5 * plain_rate,
    )
    report.add(
        "feed",
        "SQL queries per GraphQL request",
        graphql_queries,
        "queries",
        baseline=plain_queries,
        baseline_label="plain view",
        target="constant (5 and 50 cards alike: tests)",
    )


def _build_world() -> str:
    viewer, token = account_services.register(
        username="bench-viewer", email="viewer@bench.test", password="bench-passphrase-123"
    )
    sellers = [
        account_services.register(
            username=f"bench-seller{i}", email=f"seller{i}@bench.test", password="bench-passphrase-123"
        )[0]
        for i in range(10)
    ]
    likers = sellers[:5]
    category = Category.objects.get(path="women/dresses")
    for seller in sellers:
        social.follow_user(follower=viewer, followee=seller)
    for index in range(PAGE):
        listing = services.create_listing(
            seller=sellers[index % len(sellers)],
            title=f"Bench listing {index}",
            category_id=category.pk,
            price=Decimal("20.00") + index,
        )
        # Rows only: the benchmark reads photos, it does not make them.
        ListingImage.objects.bulk_create(
            [
                ListingImage(
                    listing=listing,
                    position=position,
                    original=f"bench/{index}-{position}.jpg",
                    width=1280,
                    height=1600,
                    renditions={"medium": f"bench/{index}-{position}-640w.jpg"},
                )
                for position in range(3)
            ]
        )
        for liker in likers[: index % 6]:
            social.like_listing(user=liker, listing=listing)
        if index % 2:
            social.like_listing(user=viewer, listing=listing)
    return token


def _queries(request) -> int:
    with CaptureQueriesContext(connection) as captured:
        request()
    return len(captured.captured_queries)


def _rate(request) -> float:
    for _ in range(10):
        request()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        request()
        count += 1
    return count / (time.perf_counter() - start)
