# Order ratings live in the reviews app now (reviews.0002 copied them first).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_order_in_transit_refunded_events"),
        ("reviews", "0002_ratings_from_orders"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="order",
            name="order_buyer_rating_range",
        ),
        migrations.RemoveField(
            model_name="order",
            name="buyer_rating",
        ),
        migrations.RemoveField(
            model_name="order",
            name="rated_at",
        ),
    ]
