"""Mixed mobile traffic at a fixed arrival rate against one daphne process, against a plain Django
view on the same server at the same rate, measured in the same run.

An open-loop client (bench/loadgen.py; httpx on keep-alive connections) sends LOAD_RATE requests
a second (default 10) for LOAD_SECONDS (default 30), each timed from when it was due:
- the mix of a mobile app, from a seeded draw: the feed of 50 cards (bench_feed's query), a
  listing's detail page, like or unlike (each member toggles), and a purchase of a listing nobody
  bought yet (each should succeed);
- every CONTENTION_EVERY seconds, on top, CONTENDERS buyers purchasing one fresh listing at the
  same instant: exactly one gets the order, the others SOLD_OUT or LISTING_NOT_AVAILABLE.
An error is a transport failure, a non-2xx answer, a top-level GraphQL error or a payload error
other than those expected losses. After the run the shop's sales (myOrders as the seller) must
be the purchases answered with an order, one per listing.

Baseline: the same client and rate against bench_feed's plain Django JSON view of the same feed
(same selector, no GraphQL), served by the same process: the server's settings module routes
/plain/feed/ beside /graphql/. DESIGN.md §6 has no target for this; it reports p50/p99 per
operation and overall, the error rate and the achieved rate.

The server runs as bench_live's does (bench/harness.py): the benchmark's database, the channel
layer of the environment, Celery tasks run eagerly in its requests, rate limits out of the way.
Loopback only, bounded in requests and time; the server is stopped at the end.
"""

import asyncio
import os
import random
import tempfile
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
from graphql_relay import to_global_id

from bench import bench_feed
from bench.harness import (
    Rejected,
    daphne_command,
    daphne_environment,
    database_url_for_server,
    give_default_addresses,
    members_with_tokens,
    post_graphql,
    server,
)
from bench.loadgen import Run, open_loop, percentile
from marketplace import services as marketplace_services
from marketplace.models import Category, ListingImage
from social.models import Follow

NAME = "load"
# Arrivals per second: what one daphne process serves without a queue building when it shares 2
# cores with this client (at 20 a second a queue built: p50 7.7 s, 16.5 served a second); raise it
# to find the knee on another machine.
RATE = float(os.environ.get("LOAD_RATE", "10"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))
MIX = {"feed": 55, "listing": 25, "like/unlike": 12, "purchase": 8}  # percent of arrivals
CONTENTION_EVERY = 5.0  # seconds between contended purchases
CONTENDERS = 10  # buyers of one listing at the same instant
BUYERS = 60
SELLERS = 10  # followed by every buyer: their listings make the feed
LISTINGS_PER_SELLER = 8
TIMEOUT = 30.0  # seconds a request may take before it counts as an error
CONNECTIONS = 100  # keep-alive connections of the client
EXPECTED_LOSSES = {"SOLD_OUT", "LISTING_NOT_AVAILABLE"}

LISTING = """query($id: ID!) { listing(id: $id) {
  id title description brand size condition status price { amount currency } originalPrice { amount }
  likeCount viewerHasLiked firstSaleShippingDiscount { amount currency }
  seller { id username followerCount viewerIsFollowing } images { position url(size: LARGE) }
} }"""
LIKE = "mutation($input: ListingIdInput!) { likeListing(input: $input) { errors { code } listing { likeCount } } }"
UNLIKE = "mutation($input: ListingIdInput!) { unlikeListing(input: $input) { errors { code } listing { likeCount } } }"
PURCHASE = """mutation($input: PurchaseListingInput!) { purchaseListing(input: $input) {
  errors { field code message } order { id total { amount currency } } } }"""
SALES = """query($after: String) { myOrders(role: SELLER, first: 100, after: $after) {
  edges { node { id lines { listing { id } } } } pageInfo { hasNextPage endCursor } } }"""


def run(report):
    plan = _plan()
    world = _build_world(fresh_listings=sum((operation == "purchase") + contended for operation, contended in plan))
    with tempfile.TemporaryDirectory() as scratch:
        environment = daphne_environment(
            database_url_for_server(Path(scratch)), DJANGO_SETTINGS_MODULE="bench.server_settings"
        )
        with server(daphne_command(), environment) as port:
            baseline, mixed, sales, traffic = asyncio.run(_measure(port, world, plan))
    _report(report, baseline, mixed, sales, traffic)


# The world and the plan


def _plan() -> list[tuple[str, bool]]:
    """Each arrival's operation, drawn from MIX with a fixed seed (the same every run), and whether
    a contended purchase goes out with it."""
    arrivals, every = round(RATE * SECONDS), max(round(RATE * CONTENTION_EVERY), 1)
    operations = random.Random(9).choices(list(MIX), weights=list(MIX.values()), k=arrivals)
    return [(operation, number % every == 0) for number, operation in enumerate(operations)]


def _build_world(*, fresh_listings: int) -> dict:
    """Buyers (tokens, addresses) who follow SELLERS sellers, each with listings and photo rows;
    and a shop nobody follows with the listings to buy, so that sales do not change the feed."""
    buyers, buyer_tokens = members_with_tokens("load-buyer", BUYERS)
    give_default_addresses(buyers)
    sellers, _ = members_with_tokens("load-seller", SELLERS)
    (shop,), (shop_token,) = members_with_tokens("load-shop", 1)
    Follow.objects.bulk_create([Follow(follower=buyer, followee=seller) for buyer in buyers for seller in sellers])
    category = Category.objects.get(path="women/dresses")
    browsed = []
    for index in range(SELLERS * LISTINGS_PER_SELLER):
        listing = marketplace_services.create_listing(
            seller=sellers[index % SELLERS],
            title=f"Load listing {index}",
            category_id=category.pk,
            price=Decimal("20.00") + index,
        )
        ListingImage.objects.bulk_create(
            [  # rows only, as bench_feed's
                ListingImage(
                    listing=listing,
                    position=position,
                    original=f"bench/{index}-{position}.jpg",
                    width=1280,
                    height=1600,
                    renditions={
                        "medium": f"bench/{index}-{position}-640w.jpg",
                        "large": f"bench/{index}-{position}-1280w.jpg",
                    },
                )
                for position in range(3)
            ]
        )
        browsed.append(to_global_id("Listing", listing.pk))
    for_sale = [
        to_global_id(
            "Listing",
            marketplace_services.create_listing(
                seller=shop, title=f"Load item {index}", category_id=category.pk, price=Decimal("25.00")
            ).pk,
        )
        for index in range(fresh_listings)
    ]
    return {"buyer_tokens": buyer_tokens, "browsed": browsed, "for_sale": for_sale, "shop_token": shop_token}


# Measuring


class Traffic:
    """Makes each arrival's requests and keeps what the checks need: which member likes what now,
    the listings left to buy, and the orders each purchase answered with."""

    def __init__(self, client: httpx.AsyncClient, world: dict, plan: list[tuple[str, bool]]):
        self.client, self.world, self.plan = client, world, plan
        self.draw = random.Random(7)
        self.liked: set[tuple[int, str]] = set()
        self.for_sale = iter(world["for_sale"])
        self.orders: dict[str, list[str]] = {}  # listing → orders answered for it
        self.contended: list[str] = []
        self.requests_for = {
            "feed": self._feed,
            "listing": self._listing,
            "like/unlike": self._like_unlike,
            "purchase": self._purchase,
        }

    def arrival(self, number: int):
        operation, contended = self.plan[number]
        requests = [(operation, self.requests_for[operation](self.draw.randrange(BUYERS)))]
        if contended:
            listing = next(self.for_sale)
            self.contended.append(listing)
            requests += [
                ("contended purchase", self._purchase(contender, listing, EXPECTED_LOSSES))
                for contender in self.draw.sample(range(BUYERS), CONTENDERS)
            ]
        return requests

    def _feed(self, buyer):
        return lambda: self.graphql(buyer, bench_feed.FEED)

    def _listing(self, buyer):
        listing = self.draw.choice(self.world["browsed"])
        return lambda: self.graphql(buyer, LISTING, {"id": listing})

    def _like_unlike(self, buyer):
        key = (buyer, self.draw.choice(self.world["browsed"]))
        mutation, name = (UNLIKE, "unlikeListing") if key in self.liked else (LIKE, "likeListing")
        self.liked ^= {key}

        async def toggle():
            _payload(await self.graphql(buyer, mutation, {"input": {"listingId": key[1]}}), name)

        return toggle

    def _purchase(self, buyer, listing=None, expected_losses=frozenset()):
        listing = listing or next(self.for_sale)

        async def purchase():
            body = await self.graphql(
                buyer, PURCHASE, {"input": {"listingId": listing, "idempotencyKey": str(uuid.uuid4())}}
            )
            order = _payload(body, "purchaseListing", expected_losses)["order"]
            if order:
                self.orders.setdefault(listing, []).append(order["id"])

        return purchase

    async def graphql(self, buyer, query: str, variables: dict | None = None) -> dict:
        return await post_graphql(self.client, self.world["buyer_tokens"][buyer], query, variables)

    async def plain_feed(self, buyer) -> None:
        answer = await self.client.get(
            "/plain/feed/", headers={"Authorization": f"Bearer {self.world['buyer_tokens'][buyer]}"}
        )
        if answer.status_code != 200:
            raise Rejected(f"HTTP {answer.status_code}")


async def _measure(port: int, world: dict, plan: list[tuple[str, bool]]):
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=TIMEOUT) as client:
        traffic = Traffic(client, world, plan)
        for buyer in range(10):  # warm up: first requests load the schema, open connections
            await traffic.graphql(buyer, bench_feed.FEED)
            await traffic.plain_feed(buyer)
        draw = random.Random(5)
        baseline = await open_loop(
            lambda number: [("plain feed view", lambda: traffic.plain_feed(draw.randrange(BUYERS)))],
            rate=RATE,
            seconds=SECONDS,
            timeout=TIMEOUT,
        )
        mixed = await open_loop(traffic.arrival, rate=RATE, seconds=SECONDS, timeout=TIMEOUT)
        sales = await _sales(client, world["shop_token"])
    return baseline, mixed, sales, traffic


async def _sales(client: httpx.AsyncClient, token: str) -> Counter:
    """Orders per listing of the shop, as its seller sees them."""
    per_listing, after = Counter(), None
    while True:
        page = (await post_graphql(client, token, SALES, {"after": after}))["data"]["myOrders"]
        per_listing.update(line["listing"]["id"] for edge in page["edges"] for line in edge["node"]["lines"])
        if not page["pageInfo"]["hasNextPage"]:
            return per_listing
        after = page["pageInfo"]["endCursor"]


def _payload(body: dict, mutation: str, expected_losses=frozenset()) -> dict:
    payload = body["data"][mutation]
    unexpected = [error["code"] for error in payload["errors"] if error["code"] not in expected_losses]
    if unexpected:
        raise Rejected(f"{mutation}: {', '.join(unexpected)}")
    return payload


# Reporting


def _report(report, baseline: Run, mixed: Run, sales: Counter, traffic: Traffic) -> None:
    label = f"plain Django feed view at {RATE:g} req/s"
    plain_p50, plain_p99 = (percentile(baseline.latencies_ms(), percent) for percent in (50, 99))
    for operation in [None, *mixed.operations()]:
        latencies = mixed.latencies_ms(operation)
        name = operation or f"all operations at {RATE:g} req/s for {SECONDS:g} s"
        for percent, plain in ((50, plain_p50), (99, plain_p99)):
            report.add(
                NAME,
                f"{name}, p{percent} ({len(latencies):,} requests)",
                percentile(latencies, percent),
                "ms",
                baseline=plain,
                baseline_label=label,
                target="(no §6 target)",
            )
    report.add(
        NAME,
        "error rate",
        100 * mixed.error_rate(),
        "%",
        baseline=100 * baseline.error_rate(),
        baseline_label=label,
        target="(no §6 target) 0 %",
        met=mixed.error_rate() == 0,
    )
    report.add(
        NAME,
        "achieved rate",
        mixed.achieved_rate,
        "req/s",
        baseline=baseline.achieved_rate,
        baseline_label=label,
        target=f"(no §6 target) offered {RATE:g} req/s plus contended bursts",
    )
    for failure, count in {**baseline.failures(), **mixed.failures()}.items():
        print(f"{NAME:>12} | {count:>6} × {failure}")

    answered = Counter({listing: len(orders) for listing, orders in traffic.orders.items()})
    sold_once = sum(answered[listing] == 1 and sales[listing] == 1 for listing in traffic.contended)
    report.add(
        NAME,
        f"contended listings ({CONTENDERS} buyers at once) sold exactly once",
        sold_once,
        "listings",
        target=f"all {len(traffic.contended)}: one order, {CONTENDERS - 1} clear errors (§6, 50 buyers)",
        met=sold_once == len(traffic.contended),
    )
    # What the API answered is what the shop sees: no order lost, none made twice.
    report.add(
        NAME,
        "shop's orders matching the purchases answered",
        sum(sales.values()),
        "orders",
        target=f"{sum(answered.values())}, one per listing (no §6 target)",
        met=sales == answered and set(sales.values()) <= {1},
    )
