"""Discovery: browsing with filters, search, "for you", the following feed and one's likes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.models import Category, Listing, ListingPriceChange
from marketplace.search import SEARCH_INDEX_NAME
from social import services as social
from social.models import Share
from tests.helpers import add_photo, assert_constant_queries, gid

pytestmark = pytest.mark.django_db

LISTINGS = """query($first: Int, $after: String, $search: String, $categoryId: ID, $brand: String, $size: String,
                   $colour: String, $conditions: [ListingCondition!], $price: PriceRangeInput, $sellerId: ID,
                   $availableOnly: Boolean, $sort: ListingSort) {
  listings(first: $first, after: $after, search: $search, categoryId: $categoryId, brand: $brand, size: $size,
           colour: $colour, conditions: $conditions, price: $price, sellerId: $sellerId,
           availableOnly: $availableOnly, sort: $sort) {
    edges { node { title } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CARDS = """query($first: Int) {
  %s(first: $first) {
    edges { node { id title price { amount currency } likeCount viewerHasLiked category { path parent { path } }
                   seller { username followerCount viewerIsFollowing } coverImage { url }
                   images { url(size: SMALL) } } }
  }
}"""
FEED = """query($first: Int, $after: String) {
  feed(first: $first, after: $after) { edges { node { title } } pageInfo { hasNextPage endCursor } }
}"""


def titles(body, field="listings"):
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"][field]["edges"]]


def age(listing, **delta):
    Listing.objects.filter(pk=listing.pk).update(listed_at=timezone.now() - timedelta(**delta))


@pytest.fixture
def closets(make_user, make_listing):
    ava, _ = make_user("ava")
    marco, _ = make_user("marco")
    men_shoes = Category.objects.get(path="men/shoes")
    coats = Category.objects.get(path="women/coats-jackets")
    listings = {
        "dress": make_listing(
            ava,
            title="Floral midi dress",
            brand="Reformation",
            size="M",
            price="60",
            colour="Green",
            condition=Listing.Condition.LIKE_NEW,
            description="Silk, worn once",
        ),
        "coat": make_listing(ava, title="Wool coat", brand="Everlane", size="S", price="120", category_id=coats.pk),
        "sneakers": make_listing(
            marco,
            title="Retro runners",
            brand="Nike",
            size="10",
            price="85",
            category_id=men_shoes.pk,
            condition=Listing.Condition.NEW_WITH_TAGS,
        ),
        "draft": make_listing(marco, title="Unfinished draft", publish=False),
        "sold": make_listing(marco, title="Sold boots", category_id=men_shoes.pk),
        "removed": make_listing(ava, title="Removed scarf"),
    }
    Listing.objects.filter(pk=listings["sold"].pk).update(status=Listing.Status.SOLD)
    Listing.objects.filter(pk=listings["removed"].pk).update(status=Listing.Status.REMOVED)
    for index, key in enumerate(["dress", "coat", "sneakers", "draft", "sold", "removed"]):
        age(listings[key], hours=index)  # dress newest
    return ava, marco, listings


def test_browse_shows_available_listings_newest_first(gql, closets):
    assert titles(gql(LISTINGS)) == ["Floral midi dress", "Wool coat", "Retro runners"]


@pytest.mark.parametrize(
    "variables, expected",
    [
        ({"categoryId": "women"}, ["Floral midi dress", "Wool coat"]),  # a whole subtree
        ({"categoryId": "men/shoes"}, ["Retro runners"]),
        ({"brand": "nike"}, ["Retro runners"]),
        ({"size": "m"}, ["Floral midi dress"]),
        ({"colour": "green"}, ["Floral midi dress"]),
        ({"conditions": ["LIKE_NEW", "NEW_WITH_TAGS"]}, ["Floral midi dress", "Retro runners"]),
        ({"price": {"min": "60", "max": "100"}}, ["Floral midi dress", "Retro runners"]),
        ({"price": {"max": "100", "currency": "EUR"}}, []),
    ],
)
def test_filters(gql, closets, variables, expected):
    if "categoryId" in variables:
        variables["categoryId"] = gid(Category.objects.get(path=variables["categoryId"]))
    assert titles(gql(LISTINGS, variables)) == expected


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("PRICE_LOW", ["Floral midi dress", "Retro runners", "Wool coat"]),
        ("PRICE_HIGH", ["Wool coat", "Retro runners", "Floral midi dress"]),
    ],
)
def test_price_sorts_page_by_keyset(gql, closets, sort, expected):
    first = gql(LISTINGS, {"sort": sort, "first": 2})["data"]["listings"]
    rest = gql(LISTINGS, {"sort": sort, "first": 2, "after": first["pageInfo"]["endCursor"]})
    assert [edge["node"]["title"] for edge in first["edges"]] + titles(rest) == expected


def test_a_reserved_listing_stays_visible_but_leaves_discovery(gql, closets):
    _, _, listings = closets
    Listing.objects.filter(pk=listings["coat"].pk).update(status=Listing.Status.RESERVED)
    assert titles(gql(LISTINGS)) == ["Floral midi dress", "Retro runners"]
    body = gql("query($id: ID!) { listing(id: $id) { title status } }", {"id": gid(listings["coat"])})
    assert body["data"]["listing"] == {"title": "Wool coat", "status": "RESERVED"}


def test_closet_shows_sold_items_on_request_and_drafts_to_their_seller(gql, closets, make_user):
    _, marco, _ = closets
    marco_token = gql('mutation { login(input: {username: "marco", password: "a-long-enough-passphrase"}) { token } }')[
        "data"
    ]["login"]["token"]
    closet = {"sellerId": gid(marco), "availableOnly": False}
    assert titles(gql(LISTINGS, closet)) == ["Retro runners", "Sold boots"]
    assert titles(gql(LISTINGS, closet, token=marco_token)) == ["Retro runners", "Unfinished draft", "Sold boots"]
    assert titles(gql(LISTINGS, {"sellerId": gid(marco)})) == ["Retro runners"]
    refused = gql(LISTINGS, {"availableOnly": False})
    assert refused["errors"][0]["extensions"] == {"code": "INVALID", "field": "availableOnly"}


def test_keyset_pages_walk_every_listing_once(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    for index in range(7):
        make_listing(ava, title=f"Item {index}")
    seen, after = [], None
    while True:
        page = gql(LISTINGS, {"first": 3, "after": after})["data"]["listings"]
        seen += [edge["node"]["title"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == [f"Item {index}" for index in range(7)] and len(seen) == 7


def test_search_matches_title_brand_and_description(gql, closets):
    assert titles(gql(LISTINGS, {"search": "dress"})) == ["Floral midi dress"]
    assert titles(gql(LISTINGS, {"search": "everlane"})) == ["Wool coat"]
    assert titles(gql(LISTINGS, {"search": "silk"})) == ["Floral midi dress"]
    assert titles(gql(LISTINGS, {"search": "boots"})) == []  # sold: not discoverable
    assert titles(gql(LISTINGS, {"search": "dress", "brand": "Nike"})) == []
    refused = gql(LISTINGS, {"sort": "RELEVANCE"})
    assert refused["errors"][0]["extensions"] == {"code": "INVALID", "field": "sort"}


@pytest.mark.postgres
def test_postgres_search_ranks_and_uses_the_gin_index(gql, make_user, make_listing):
    ava, _ = make_user("ava")
    make_listing(ava, title="Vintage jacket", description="Denim, dresses up a plain outfit")
    make_listing(ava, title="Denim dress", brand="Levi's")
    make_listing(ava, title="Running shoes")
    # Stemming: "dresses" finds "dress"; the title (weight A) outranks the description (weight C).
    assert titles(gql(LISTINGS, {"search": "dresses denim"})) == ["Denim dress", "Vintage jacket"]
    assert titles(gql(LISTINGS, {"search": "denim -jacket"})) == ["Denim dress"]
    from marketplace.search import matching

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        sql, params = matching(Listing.objects.all(), "denim").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert SEARCH_INDEX_NAME in plan


def test_for_you_ranks_by_the_viewers_taste(gql, make_user, make_listing):
    viewer, token = make_user("viewer")
    ava, _ = make_user("ava")
    marco, _ = make_user("marco")
    shoes = Category.objects.get(path="men/shoes")
    liked = make_listing(marco, title="Liked before", brand="Acne", category_id=shoes.pk)
    social.like_listing(user=viewer, listing=liked)
    Listing.objects.filter(pk=liked.pk).update(status=Listing.Status.SOLD)
    social.follow_user(follower=viewer, followee=ava)
    stale = make_listing(marco, title="Plain old")
    same_taste = make_listing(marco, title="Same brand and category", brand="Acne", category_id=shoes.pk)  # 2 + 2
    followed = make_listing(ava, title="From a followed closet")  # 3
    dropped = make_listing(marco, title="Price dropped")  # 2
    ListingPriceChange.objects.create(listing=dropped, old_price=Decimal("50"), new_price=Decimal("25"), currency="USD")
    own = make_listing(viewer, title="My own")
    for listing in (stale, same_taste, followed, dropped, own):
        age(listing, days=40)  # no recency points
    make_listing(marco, title="Listed today")  # 3, and newer than the followed one
    assert titles(gql(LISTINGS, {"sort": "FOR_YOU"}, token=token)) == [
        "Same brand and category",
        "Listed today",
        "From a followed closet",
        "Price dropped",
        "Plain old",
    ]
    assert titles(gql(LISTINGS, {"sort": "FOR_YOU"}))[:2] == ["Listed today", "Price dropped"]


def test_feed_shows_followed_closets_and_their_shares_once_at_the_newest(gql, make_user, make_listing):
    viewer, token = make_user("viewer")
    ava, _ = make_user("ava")
    marco, _ = make_user("marco")
    stranger, _ = make_user("stranger")
    social.follow_user(follower=viewer, followee=ava)
    social.follow_user(follower=viewer, followee=marco)
    old_ava = make_listing(ava, title="Ava old")
    new_ava = make_listing(ava, title="Ava new")
    stranger_item = make_listing(stranger, title="Stranger item")
    unshared = make_listing(stranger, title="Never shared")
    age(old_ava, days=3)
    age(new_ava, days=1)
    age(stranger_item, days=5)
    age(unshared, days=1)
    assert titles(gql(FEED, token=token), "feed") == ["Ava new", "Ava old"]

    # Marco shares the stranger's item twice and Ava's old one: each shows once, at its latest share.
    now = timezone.now()
    for listing, hours_ago in ((stranger_item, 30), (old_ava, 2), (stranger_item, 1)):
        share = social.share_listing(sharer=marco, listing=listing)
        Share.objects.filter(pk=share.pk).update(created_at=now - timedelta(hours=hours_ago))
    social.share_listing(sharer=stranger, listing=unshared)  # not followed: not in the feed
    assert titles(gql(FEED, token=token), "feed") == ["Stranger item", "Ava old", "Ava new"]

    first = gql(FEED, {"first": 2}, token=token)["data"]["feed"]
    rest = gql(FEED, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token)
    assert titles(rest, "feed") == ["Ava new"]

    Listing.objects.filter(pk=stranger_item.pk).update(status=Listing.Status.SOLD)
    assert titles(gql(FEED, token=token), "feed") == ["Ava old", "Ava new"]


def test_feed_needs_a_login(gql):
    assert gql(FEED)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_my_likes_newest_like_first_including_sold(gql, make_user, make_listing):
    viewer, token = make_user("viewer")
    ava, _ = make_user("ava")
    first, second = make_listing(ava, title="First liked"), make_listing(ava, title="Second liked")
    social.like_listing(user=viewer, listing=first)
    social.like_listing(user=viewer, listing=second)
    Listing.objects.filter(pk=second.pk).update(status=Listing.Status.SOLD)
    query = "{ myLikes { edges { node { title viewerHasLiked } } } }"
    edges = gql(query, token=token)["data"]["myLikes"]["edges"]
    assert [edge["node"] for edge in edges] == [
        {"title": "Second liked", "viewerHasLiked": True},
        {"title": "First liked", "viewerHasLiked": True},
    ]


def card_world(make_user, make_listing, with_shares=False):
    """A viewer following sellers whose listings each have a photo and likes from others."""
    viewer, token = make_user("viewer")
    likers = [make_user(f"liker{index}")[0] for index in range(3)]
    sellers = [make_user(f"seller{index}")[0] for index in range(3)]
    for seller in sellers:
        social.follow_user(follower=viewer, followee=seller)

    def grow(count):
        for index in range(count):
            seller = sellers[index % len(sellers)]
            listing = make_listing(seller, title=f"Card {Listing.objects.count()}")
            add_photo(listing)
            for liker in likers[: index % 4]:
                social.like_listing(user=liker, listing=listing)
            social.like_listing(user=viewer, listing=listing)
            if with_shares and index % 2:
                social.share_listing(sharer=sellers[(index + 1) % len(sellers)], listing=listing)

    return token, grow


@pytest.mark.parametrize("field", ["listings", "feed", "myLikes"])
def test_listing_lists_run_a_fixed_number_of_queries(gql, make_user, make_listing, field):
    token, grow = card_world(make_user, make_listing, with_shares=field == "feed")
    queries = assert_constant_queries(gql, CARDS % field, {"first": 100}, token, grow, path=[field])
    # token lookup, the page (with its annotations), sellers with follow stats, photos
    assert queries == 4


def test_search_and_for_you_run_a_fixed_number_of_queries(gql, make_user, make_listing):
    token, grow = card_world(make_user, make_listing)
    query = CARDS.replace("%s(first: $first)", 'listings(first: $first, search: "card", sort: FOR_YOU)')
    assert_constant_queries(gql, query, {"first": 100}, token, grow, path=["listings"])
