"""What deleting an account and exporting its data mean for reviews (accounts.hooks).

Deleting blanks the member's words: the love notes they wrote and the answers they gave. The
stars stay, signed by the anonymous `deleted-<id>`: they are the seller's record and average.
"""

from reviews.models import Review


def erase(user) -> None:
    Review.objects.filter(buyer=user).update(note="")
    Review.objects.filter(seller=user).exclude(answered_at=None).update(answer="")


def export(user) -> dict:
    return {
        "reviewsWritten": list(
            Review.objects.filter(buyer=user)
            .order_by("created_at")
            .values("order_id", "seller__username", "rating", "note", "created_at", "answer")
        ),
        "reviewsReceived": list(
            Review.objects.filter(seller=user)
            .order_by("created_at")
            .values("order_id", "rating", "note", "created_at", "answer", "answered_at")
        ),
    }
