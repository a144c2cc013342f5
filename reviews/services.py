"""Reviews: a buyer reviews an accepted order once, its seller answers once, staff hide abusive
ones. Each write keeps the seller's SellerRating in step in the same transaction.

Locks: leaving a review locks the order row (one review per order, the constraint backs it);
answering and hiding are conditional updates of the review; the seller's totals change by
`F()` updates, so concurrent reviews of one seller add up.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from graphql_relay import to_global_id

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace.models import Order
from notifications import services as notification_services
from notifications.models import Kind
from reviews.errors import ReviewError
from reviews.models import Review, SellerRating

RATING_STARS = range(1, 6)


def leave_review(*, order: Order, buyer: User, rating: int, note: str = "") -> Review:
    """The buyer of an accepted order rates it 1 to 5 stars with an optional love note; once."""
    note = (note or "").strip()
    if rating not in RATING_STARS:
        raise ServiceError(CommonError.INVALID, "Give 1 to 5 stars.", "rating")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.buyer_id != buyer.pk:
            raise ServiceError(ReviewError.NOT_THE_BUYER, "Only its buyer reviews an order.", "orderId")
        if order.status != Order.Status.ACCEPTED:
            raise ServiceError(ReviewError.ORDER_NOT_ACCEPTED, "Review an order once you have accepted it.", "orderId")
        if Review.objects.filter(order_id=order.pk).exists():
            raise _already_reviewed()
        review = Review(order=order, buyer_id=buyer.pk, seller_id=order.seller_id, rating=rating, note=note)
        _validate(review, exclude=["order", "buyer", "seller", "hidden_by"])
        try:
            with transaction.atomic():
                review.save()
        except IntegrityError:
            raise _already_reviewed() from None
        _count(review.seller_id, reviews=1, stars=rating)
        notification_services.notify(
            recipient_ids=[review.seller_id],
            kind=Kind.REVIEW,
            title=f"@{buyer.username} left you {rating} star{'s' if rating > 1 else ''}",
            body=note[:120],
            dedupe_key=f"review:{review.pk}",
            data={"reviewId": to_global_id("Review", review.pk)},
        )
    return review


def answer_review(*, review: Review, seller: User, answer: str) -> Review:
    """The seller answers a review of theirs, once."""
    if review.seller_id != seller.pk:
        raise ServiceError(ReviewError.NOT_THE_SELLER, "Only the seller reviewed answers.", "reviewId")
    answer = (answer or "").strip()
    if not answer:
        raise ServiceError(CommonError.REQUIRED, "Write your answer.", "answer")
    _validate(Review(rating=review.rating, answer=answer), exclude=["order", "buyer", "seller", "hidden_by"])
    with transaction.atomic():
        now = timezone.now()
        if not Review.objects.filter(pk=review.pk, answered_at__isnull=True).update(answer=answer, answered_at=now):
            raise ServiceError(ReviewError.ALREADY_ANSWERED, "You have already answered this review.", "reviewId")
        review = Review.objects.get(pk=review.pk)
        notification_services.notify(
            recipient_ids=[review.buyer_id],
            kind=Kind.REVIEW,
            title=f"@{seller.username} answered your review",
            body=answer[:120],
            dedupe_key=f"review:{review.pk}:answer",
            data={"reviewId": to_global_id("Review", review.pk)},
        )
    return review


@transaction.atomic
def hide_review(*, review: Review, staff: User, reason: str) -> bool:
    """Staff take an abusive review down: it leaves the seller's list and average. False if it was hidden."""
    hidden = Review.objects.filter(pk=review.pk, hidden_at__isnull=True).update(
        hidden_at=timezone.now(), hidden_by=staff, hidden_reason=(reason or "")[:200]
    )
    if hidden:
        _count(review.seller_id, reviews=-1, stars=-review.rating)
    return bool(hidden)


@transaction.atomic
def unhide_review(*, review: Review) -> bool:
    """Staff put a review hidden by mistake back. False if it was shown."""
    shown = Review.objects.filter(pk=review.pk, hidden_at__isnull=False).update(
        hidden_at=None, hidden_by=None, hidden_reason=""
    )
    if shown:
        _count(review.seller_id, reviews=1, stars=review.rating)
    return bool(shown)


def _count(seller_id: int, *, reviews: int, stars: int) -> None:
    SellerRating.objects.get_or_create(seller_id=seller_id)
    SellerRating.objects.filter(seller_id=seller_id).update(
        review_count=F("review_count") + reviews, rating_total=F("rating_total") + stars
    )


def _validate(review: Review, *, exclude: list[str]) -> None:
    try:
        review.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ServiceError.from_validation_error(exc) from None


def _already_reviewed() -> ServiceError:
    return ServiceError(ReviewError.ALREADY_REVIEWED, "You have already reviewed this order.", "orderId")
