"""Orders' bare stars (marketplace's former Order.buyer_rating) become reviews without a note,
each seller's totals counted from them; marketplace drops the columns once this ran."""

from django.db import migrations
from django.db.models import Count, Sum


def move_ratings(apps, schema_editor):
    Order = apps.get_model("marketplace", "Order")
    Review = apps.get_model("reviews", "Review")
    SellerRating = apps.get_model("reviews", "SellerRating")
    rated = Order.objects.filter(buyer_rating__isnull=False).order_by("pk")
    for start in range(0, rated.count(), 1000):
        Review.objects.bulk_create(
            [
                Review(
                    order_id=order.pk,
                    buyer_id=order.buyer_id,
                    seller_id=order.seller_id,
                    rating=order.buyer_rating,
                    created_at=order.rated_at or order.accepted_at or order.placed_at,
                )
                for order in rated[start : start + 1000]
            ]
        )
    totals = Review.objects.values("seller_id").annotate(count=Count("pk"), total=Sum("rating"))
    SellerRating.objects.bulk_create(
        [
            SellerRating(seller_id=row["seller_id"], review_count=row["count"], rating_total=row["total"])
            for row in totals
        ],
        batch_size=1000,
    )


def move_back(apps, schema_editor):
    Order = apps.get_model("marketplace", "Order")
    Review = apps.get_model("reviews", "Review")
    for review in Review.objects.iterator(chunk_size=1000):
        Order.objects.filter(pk=review.order_id).update(buyer_rating=review.rating, rated_at=review.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_reviews"),
    ]

    operations = [
        migrations.RunPython(move_ratings, move_back),
    ]
