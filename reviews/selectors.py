"""Reads of reviews: a seller's shown reviews, an order's review, and sellers' ratings as members
carry them (a joined SellerRating row: no aggregate per card)."""

from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from config.errors import CommonError, ServiceError
from marketplace import hooks
from reviews.models import Review, SellerRating


def with_seller_rating(users: QuerySet[User], viewer: User | None) -> QuerySet[User]:
    """Users annotated with `review_count` and `rating_total` (0 for a seller nobody reviewed)."""
    return users.annotate(
        review_count=Coalesce(F("seller_rating__review_count"), Value(0)),
        rating_total=Coalesce(F("seller_rating__rating_total"), Value(0)),
    )


def seller_rating(seller_id: int) -> SellerRating:
    """One seller's totals, for a member that did not come from a list (unsaved zeros if none)."""
    return SellerRating.objects.filter(seller_id=seller_id).first() or SellerRating(seller_id=seller_id)


def average(review_count: int, rating_total: int) -> float | None:
    return round(rating_total / review_count, 2) if review_count else None


def _reviews_as_shown(viewer: User | None) -> QuerySet[Review]:
    members = hooks.members_as_shown(User.objects.all(), viewer)
    return Review.objects.prefetch_related(Prefetch("buyer", queryset=members), Prefetch("seller", queryset=members))


def seller_reviews(seller_id: int, viewer: User | None) -> QuerySet[Review]:
    """A seller's reviews staff did not hide, newest first: keyset on ("-created_at", "-pk")."""
    return _reviews_as_shown(viewer).filter(seller_id=seller_id, hidden_at__isnull=True)


def order_review(viewer: User | None) -> Prefetch:
    """The review on each order its parties see (a hidden one too: it is their own)."""
    return Prefetch("review", queryset=_reviews_as_shown(viewer))


def reviews_shown(viewer: User | None) -> QuerySet[Review]:
    """Reviews `viewer` may open: those shown to anyone, and hidden ones of their own orders."""
    shown = Q(hidden_at__isnull=True)
    if viewer is not None:
        shown |= Q(buyer_id=viewer.pk) | Q(seller_id=viewer.pk)
    return _reviews_as_shown(viewer).filter(shown)


def get_review(viewer: User | None, review_id: int, field: str = "reviewId") -> Review:
    """A review `viewer` may open (reviews_shown), or NOT_FOUND."""
    review = reviews_shown(viewer).filter(pk=review_id).first()
    if review is None:
        raise ServiceError(CommonError.NOT_FOUND, "This review does not exist.", field)
    return review
