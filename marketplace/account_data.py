"""What deleting an account and exporting its data mean for the marketplace (accounts.hooks).

Deleting: open listings are removed (their pending offers end and their buyers are told, as any
removal does), the member's own pending offers are cancelled, open bundles, saved addresses and
seller settings go. Orders stay whole, with their payments and the address copied at purchase:
they are the other party's record and the books the law requires; the member's name on them
becomes the anonymous `deleted-<id>`. Refused while an order is in progress or an item is
reserved (money held, a parcel on its way).
"""

from django.db.models import Q
from django.utils import timezone

from accounts.errors import AccountError
from config.errors import ServiceError
from marketplace import services
from marketplace.models import (
    Bundle,
    CurationTerms,
    IdempotencyKey,
    Listing,
    Offer,
    Order,
    SellerDiscounts,
    ShippingAddress,
)

_IN_PROGRESS = (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.DELIVERED)


def check_deletion(user) -> None:
    if Order.objects.filter(Q(buyer=user) | Q(seller=user), status__in=_IN_PROGRESS).exists():
        raise ServiceError(
            AccountError.ACCOUNT_HAS_OPEN_ORDERS,
            "Some of your orders are still in progress: once they are accepted or cancelled, "
            "you can delete your account.",
        )
    if Listing.objects.filter(seller=user, status=Listing.Status.RESERVED).exists():
        raise ServiceError(
            AccountError.ACCOUNT_HAS_OPEN_ORDERS,
            "One of your items is reserved for a buyer: wait until it is sold or released.",
        )


def erase(user) -> None:
    for listing in Listing.objects.filter(seller=user, status__in=services.OPEN_STATUSES):
        services.remove_listing(listing=listing)
    Offer.objects.filter(buyer=user, status=Offer.Status.PENDING).update(
        status=Offer.Status.CANCELLED, updated_at=timezone.now()
    )
    Bundle.objects.filter(buyer=user, status=Bundle.Status.OPEN).delete()
    ShippingAddress.objects.filter(user=user).delete()
    SellerDiscounts.objects.filter(seller=user).delete()
    CurationTerms.objects.filter(seller=user).delete()
    IdempotencyKey.objects.filter(user=user).delete()


def export(user) -> dict:
    def orders(role):
        return [
            {
                "id": order.pk,
                "status": order.status,
                "source": order.source,
                "currency": order.currency,
                "total": order.total,
                "itemTotal": order.item_total,
                "shippingFee": order.shipping_fee,
                "placedAt": order.placed_at,
                "otherParty": (order.seller if role == "buyer" else order.buyer).username,
                "items": [line.title for line in order.lines.all()],
            }
            for order in Order.objects.filter(**{role: user})
            .select_related("buyer", "seller")
            .prefetch_related("lines")
            .order_by("placed_at")
        ]

    return {
        "listings": list(
            Listing.objects.filter(seller=user)
            .order_by("created_at")
            .values(
                "id",
                "title",
                "description",
                "brand",
                "size",
                "colour",
                "condition",
                "price",
                "currency",
                "status",
                "created_at",
            )
        ),
        "purchases": orders("buyer"),
        "sales": orders("seller"),
        "offersMade": list(
            Offer.objects.filter(buyer=user)
            .order_by("created_at")
            .values(
                "id", "listing_id", "bundle_id", "buyer_amount", "seller_amount", "currency", "status", "created_at"
            )
        ),
        "shippingAddresses": list(
            ShippingAddress.objects.filter(user=user).values(
                "recipient_name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "is_default"
            )
        ),
    }
