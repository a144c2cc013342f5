"""Buyers review accepted orders once (stars and a love note); sellers answer once; staff hide
abusive ones; a seller's average and count show on profiles and listing cards."""

import pytest
from django.db import connection
from django.test import Client

from marketplace import services as marketplace_services
from notifications.models import Notification
from reviews import services
from reviews.models import Review, SellerRating
from tests.helpers import assert_constant_queries, gid, race

pytestmark = pytest.mark.django_db

LEAVE = """mutation($input: LeaveReviewInput!) { leaveReview(input: $input) {
  review { id rating note answer hidden buyer { username } seller { username reviewCount ratingAverage } }
  errors { field code } } }"""
ANSWER = """mutation($input: AnswerReviewInput!) { answerReview(input: $input) {
  review { answer answeredAt } errors { field code } } }"""
ORDER = """query($id: ID!) { order(id: $id) { status review { rating note hidden } } }"""
PROFILE = """query($id: ID!) { node(id: $id) { ... on User { reviewCount ratingAverage } } }"""
SELLER_REVIEWS = """query($id: ID!, $first: Int) { sellerReviews(sellerId: $id, first: $first) {
  edges { node { rating note answer buyer { username reviewCount } } } pageInfo { hasNextPage } } }"""


@pytest.fixture
def parties(make_user, make_buyer):
    (seller, seller_token), (buyer, buyer_token) = make_user("ava"), make_buyer("marco")
    return seller, seller_token, buyer, buyer_token


def leave(gql, token, order, rating=5, note="Lovely dress, fast shipping!"):
    variables = {"input": {"orderId": gid(order), "rating": rating, "note": note}}
    return gql(LEAVE, variables, token=token)["data"]["leaveReview"]


def answer(gql, token, review, text="Thank you, enjoy it!"):
    return gql(ANSWER, {"input": {"reviewId": gid(review), "answer": text}}, token=token)["data"]["answerReview"]


def profile(gql, user):
    return gql(PROFILE, {"id": gid(user)})["data"]["node"]


def test_the_buyer_reviews_an_accepted_order_once(api, gql, parties, make_listing, django_capture_on_commit_callbacks):
    seller, _, buyer, buyer_token = parties
    order = marketplace_services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key="k")
    assert leave(gql, buyer_token, order)["errors"] == [{"field": "orderId", "code": "ORDER_NOT_ACCEPTED"}]
    marketplace_services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
    marketplace_services.accept_order(order=order, actor=buyer)

    left = api(LEAVE, {"input": {"orderId": gid(order), "rating": 4, "note": "  Lovely dress!  "}}, token=buyer_token)
    left = left["data"]["leaveReview"]
    assert left["errors"] == []
    assert left["review"] == {
        "id": left["review"]["id"],
        "rating": 4,
        "note": "Lovely dress!",
        "answer": "",
        "hidden": False,
        "buyer": {"username": "marco"},
        "seller": {"username": "ava", "reviewCount": 1, "ratingAverage": 4.0},
    }
    # Once per order: a second review (even another rating) is refused and changes nothing.
    assert leave(gql, buyer_token, order, rating=1)["errors"] == [{"field": "orderId", "code": "ALREADY_REVIEWED"}]
    assert Review.objects.get().rating == 4
    assert gql(ORDER, {"id": gid(order)}, token=buyer_token)["data"]["order"]["review"] == {
        "rating": 4,
        "note": "Lovely dress!",
        "hidden": False,
    }
    assert profile(gql, seller) == {"reviewCount": 1, "ratingAverage": 4.0}
    assert Notification.objects.get(kind="review").recipient_id == seller.pk


def test_nobody_reviewed_a_seller_yet(gql, parties):
    assert profile(gql, parties[0]) == {"reviewCount": 0, "ratingAverage": None}


@pytest.mark.parametrize(
    ("rating", "note", "error"),
    [
        (0, "", {"field": "rating", "code": "INVALID"}),
        (6, "", {"field": "rating", "code": "INVALID"}),
        (5, "x" * 501, {"field": "note", "code": "INVALID"}),
    ],
)
def test_bad_input_is_a_typed_error_and_changes_nothing(gql, parties, accepted_order, rating, note, error):
    seller, _, buyer, buyer_token = parties
    order = accepted_order(seller, buyer)
    assert leave(gql, buyer_token, order, rating=rating, note=note)["errors"] == [error]
    assert not Review.objects.exists() and not SellerRating.objects.exists()


def test_only_the_buyer_reviews(gql, parties, accepted_order, make_user):
    seller, seller_token, buyer, _ = parties
    order = accepted_order(seller, buyer)
    assert leave(gql, seller_token, order)["errors"] == [{"field": "orderId", "code": "NOT_THE_BUYER"}]
    stranger_token = make_user("nosy")[1]
    assert leave(gql, stranger_token, order)["errors"] == [{"field": "orderId", "code": "NOT_FOUND"}]
    assert gql(LEAVE, {"input": {"orderId": gid(order), "rating": 5}})["data"]["leaveReview"]["errors"] == [
        {"field": None, "code": "UNAUTHENTICATED"}
    ]
    assert not Review.objects.exists()


def test_the_seller_answers_once(api, gql, parties, accepted_order):
    seller, seller_token, buyer, buyer_token = parties
    review = services.leave_review(order=accepted_order(seller, buyer), buyer=buyer, rating=5)
    assert answer(gql, buyer_token, review)["errors"] == [{"field": "reviewId", "code": "NOT_THE_SELLER"}]
    assert answer(gql, seller_token, review, "   ")["errors"] == [{"field": "answer", "code": "REQUIRED"}]
    assert answer(gql, seller_token, review, "x" * 501)["errors"] == [{"field": "answer", "code": "INVALID"}]
    answered = api(ANSWER, {"input": {"reviewId": gid(review), "answer": " Thank you! "}}, token=seller_token)
    answered = answered["data"]["answerReview"]
    assert answered["errors"] == [] and answered["review"]["answer"] == "Thank you!"
    assert answer(gql, seller_token, review, "Again")["errors"] == [{"field": "reviewId", "code": "ALREADY_ANSWERED"}]
    assert Review.objects.get().answer == "Thank you!"
    assert Notification.objects.filter(kind="review", recipient_id=buyer.pk).exists()


def test_staff_hide_an_abusive_review_it_leaves_lists_and_averages(
    gql, parties, accepted_order, make_buyer, django_user_model
):
    seller, _, buyer, buyer_token = parties
    kind = services.leave_review(order=accepted_order(seller, buyer), buyer=buyer, rating=5)
    troll, troll_token = make_buyer("troll")
    abusive = services.leave_review(order=accepted_order(seller, troll), buyer=troll, rating=1, note="Rude words")
    assert profile(gql, seller) == {"reviewCount": 2, "ratingAverage": 3.0}

    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    staff = Client()
    staff.force_login(admin)
    assert staff.get("/admin/reviews/review/", {"q": "troll"}).status_code == 200
    response = staff.post("/admin/reviews/review/", {"action": "hide", "_selected_action": [abusive.pk]})
    assert response.status_code == 302

    abusive.refresh_from_db()
    assert abusive.hidden_by == admin and abusive.hidden_at is not None  # the audit: who and when
    assert profile(gql, seller) == {"reviewCount": 1, "ratingAverage": 5.0}
    listed = gql(SELLER_REVIEWS, {"id": gid(seller)})["data"]["sellerReviews"]["edges"]
    assert [edge["node"]["rating"] for edge in listed] == [kind.rating]
    # Its author still sees it on their order, marked hidden; a stranger cannot open it.
    shown = gql(ORDER, {"id": gid(abusive.order)}, token=troll_token)["data"]["order"]["review"]
    assert shown == {"rating": 1, "note": "Rude words", "hidden": True}
    assert (
        gql(PROFILE.replace("User { reviewCount ratingAverage }", "Review { rating }"), {"id": gid(abusive)})["data"][
            "node"
        ]
        is None
    )

    # Hiding twice counts once; showing it again brings it back.
    assert services.hide_review(review=abusive, staff=admin, reason="again") is False
    staff.post("/admin/reviews/review/", {"action": "unhide", "_selected_action": [abusive.pk]})
    assert profile(gql, seller) == {"reviewCount": 2, "ratingAverage": 3.0}


def test_a_sellers_reviews_page_costs_fixed_queries(gql, parties, accepted_order, make_buyer):
    seller = parties[0]
    buyers = iter(range(1000))

    def grow(count):
        for _ in range(count):
            buyer = make_buyer(f"buyer{next(buyers)}")[0]
            services.leave_review(order=accepted_order(seller, buyer), buyer=buyer, rating=4, note="Nice")

    assert_constant_queries(gql, SELLER_REVIEWS, {"id": gid(seller), "first": 50}, None, grow, path=("sellerReviews",))


CARDS = """query($first: Int) { listings(first: $first) { edges { node { title
  seller { username reviewCount ratingAverage followerCount } } } } }"""


def test_listing_cards_carry_the_sellers_rating_in_fixed_queries(
    gql, accepted_order, make_user, make_buyer, make_listing
):
    reviewer = make_buyer("reviewer")[0]
    sellers = iter(range(1000))

    def grow(count):
        for _ in range(count):
            seller = make_user(f"seller{next(sellers)}")[0]
            services.leave_review(order=accepted_order(seller, reviewer, title="Sold"), buyer=reviewer, rating=3)
            make_listing(seller, title="On sale")

    assert_constant_queries(gql, CARDS, {"first": 50}, None, grow, path=("listings",))
    cards = gql(CARDS, {"first": 50})["data"]["listings"]["edges"]
    assert {(edge["node"]["seller"]["reviewCount"], edge["node"]["seller"]["ratingAverage"]) for edge in cards} == {
        (1, 3.0)
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reviews_count_exactly_and_an_order_is_reviewed_once(parties, accepted_order, make_buyer):
    seller, _, buyer, _ = parties
    others = [make_buyer(f"fan{index}")[0] for index in range(8)]
    orders = [accepted_order(seller, other) for other in others]
    twice = accepted_order(seller, buyer)

    def review(order, reviewer, rating):
        def call():
            try:
                return services.leave_review(order=order, buyer=reviewer, rating=rating).rating
            except Exception as exc:  # noqa: BLE001 - the typed refusal is asserted below
                return getattr(exc, "errors", [exc])[0].code.name
            finally:
                connection.close()

        return call

    results = race(
        [review(order, other, 4) for order, other in zip(orders, others, strict=True)]
        + [review(twice, buyer, 5), review(twice, buyer, 1)]
    )
    assert results[:8] == [4] * 8
    assert sorted(map(str, results[8:])) in (["5", "ALREADY_REVIEWED"], ["1", "ALREADY_REVIEWED"])
    rating = SellerRating.objects.get(seller=seller)
    assert rating.review_count == 9 == Review.objects.count()
    assert rating.rating_total == sum(Review.objects.values_list("rating", flat=True))


DELETE = """mutation($input: DeleteAccountInput!) { deleteAccount(input: $input) { deleted errors { code } } }"""


def test_a_deleted_buyers_note_goes_their_stars_stay(api, gql, parties, accepted_order):
    seller, _, buyer, buyer_token = parties
    services.leave_review(order=accepted_order(seller, buyer), buyer=buyer, rating=2, note="My own words")
    deleted = api(DELETE, {"input": {"password": "a-long-enough-passphrase"}}, token=buyer_token)
    assert deleted["data"]["deleteAccount"] == {"deleted": True, "errors": []}
    assert list(Review.objects.values_list("rating", "note")) == [(2, "")]
    assert profile(gql, seller) == {"reviewCount": 1, "ratingAverage": 2.0}
