"""The stars buyers gave before reviews existed (Order.buyer_rating) become reviews, with each
seller's totals, and go back to the orders when the migration is reversed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reviews.models import Review, SellerRating

# Without reviews, marketplace is as it was: its rating columns are back.
BEFORE_REVIEWS = [("reviews", None)]
MARKETPLACE_BEFORE = [("marketplace", "0009_order_in_transit_refunded_events")]


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def unmigrate_reviews():
    migrate(BEFORE_REVIEWS)
    return MigrationExecutor(connection).loader.project_state(MARKETPLACE_BEFORE).apps


@pytest.mark.django_db(transaction=True)
def test_order_ratings_move_into_reviews_and_back(make_user, make_buyer, accepted_order):
    seller = make_user("ava")[0]
    rated = [accepted_order(seller, make_buyer(f"buyer{index}")[0]) for index in range(3)]
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = unmigrate_reviews()
        Order = old.get_model("marketplace", "Order")
        for order, stars in zip(rated, (5, 4, 2), strict=True):
            Order.objects.filter(pk=order.pk).update(buyer_rating=stars, rated_at=order.accepted_at)
        Order.objects.filter(pk=rated[2].pk).update(buyer_rating=None, rated_at=None)  # never rated

        migrate(latest)
        assert sorted(Review.objects.values_list("order_id", "rating", "note")) == [
            (rated[0].pk, 5, ""),
            (rated[1].pk, 4, ""),
        ]
        assert SellerRating.objects.filter(seller=seller, review_count=2, rating_total=9).exists()

        old = unmigrate_reviews()
        ratings = old.get_model("marketplace", "Order").objects.order_by("pk").values_list("buyer_rating", flat=True)
        assert list(ratings) == [5, 4, None]
    finally:
        migrate(latest)
