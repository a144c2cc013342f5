"""Every write of the marketplace, one module per room:

- `listings`: listings, their images, reservations for live sales;
- `addresses`: shipping addresses, seller discounts and curation terms;
- `checkout`: every way of buying, the stock taken and the order written (the lock order is there);
- `idempotency`: clients' idempotency keys;
- `orders`: orders after purchase, one table of transitions (each recording its event), ratings;
- `settlement`: payments brought in line with their orders after commit;
- `reconciliation`: payments brought in line with their provider (webhooks, the sweep);
- `offers`: offers, counters, acceptances, expiry;
- `bundles`: a buyer's basket of one seller's listings;
- `_shared`: helpers several of them use (member lock, client IDs, money, closing a listing's offers).

Other apps, the schema, tasks, the admin and tests call `from marketplace import services` and the
names below. Inside the package, modules import from each other directly, never through here.
"""

from marketplace.services._shared import MAX_PRICE, validated_money
from marketplace.services.addresses import (
    DISCOUNT_RANGES,
    MAX_ADDRESSES,
    add_shipping_address,
    remove_shipping_address,
    update_curation_terms,
    update_seller_discounts,
    update_shipping_address,
)
from marketplace.services.bundles import BUNDLE_MAX_ITEMS, add_to_bundle, remove_from_bundle
from marketplace.services.checkout import BINDING_SOURCES, add_to_order, checkout_bundle, purchase_listing
from marketplace.services.idempotency import MAX_KEY_LENGTH
from marketplace.services.listings import (
    EDITABLE_FIELDS,
    MAX_QUANTITY,
    OPEN_STATUSES,
    ListingUpdate,
    add_listing_image,
    create_listing,
    make_image_renditions,
    release_listing,
    remove_listing,
    remove_listing_image,
    reorder_listing_images,
    reserve_listing,
    update_listing,
)
from marketplace.services.offers import create_offer, expire_offers, make_bundle_offer, respond_to_offer, withdraw_offer
from marketplace.services.orders import (
    MAX_CARRIER_LENGTH,
    MAX_REFUND_REASON_LENGTH,
    ORDER_TRANSITIONS,
    Role,
    Transition,
    accept_order,
    auto_accept_orders,
    cancel_order,
    mark_order_delivered,
    mark_order_in_transit,
    refund_order,
    release_order,
    ship_order,
)
from marketplace.services.reconciliation import (
    PROVIDER_MOVES,
    apply_provider_event,
    reconcile_stalled_payments,
    release_orphaned_holds,
)
from marketplace.services.settlement import (
    MONEY_RETURNED,
    PAYMENT_RETRY_FROM,
    PAYMENT_STEPS,
    settle_payment,
    stalled_payments,
)

__all__ = [
    "BINDING_SOURCES",
    "BUNDLE_MAX_ITEMS",
    "DISCOUNT_RANGES",
    "EDITABLE_FIELDS",
    "ListingUpdate",
    "MAX_ADDRESSES",
    "MAX_CARRIER_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_REFUND_REASON_LENGTH",
    "MONEY_RETURNED",
    "OPEN_STATUSES",
    "ORDER_TRANSITIONS",
    "PAYMENT_RETRY_FROM",
    "PAYMENT_STEPS",
    "PROVIDER_MOVES",
    "Role",
    "Transition",
    "accept_order",
    "add_listing_image",
    "add_shipping_address",
    "add_to_bundle",
    "add_to_order",
    "apply_provider_event",
    "auto_accept_orders",
    "cancel_order",
    "checkout_bundle",
    "create_listing",
    "create_offer",
    "expire_offers",
    "make_bundle_offer",
    "make_image_renditions",
    "mark_order_delivered",
    "mark_order_in_transit",
    "purchase_listing",
    "reconcile_stalled_payments",
    "refund_order",
    "release_listing",
    "release_order",
    "release_orphaned_holds",
    "remove_from_bundle",
    "remove_listing",
    "remove_listing_image",
    "remove_shipping_address",
    "reorder_listing_images",
    "reserve_listing",
    "respond_to_offer",
    "settle_payment",
    "ship_order",
    "stalled_payments",
    "update_curation_terms",
    "update_listing",
    "update_seller_discounts",
    "update_shipping_address",
    "validated_money",
    "withdraw_offer",
]
