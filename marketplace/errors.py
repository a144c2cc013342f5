"""Error codes of the marketplace; `DJANGO_CODES` names Django validators' codes in them.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class ListingError(enum.Enum):
    """Listings and their photos."""

    INVALID_PRICE = "invalid_price"
    INVALID_CURRENCY = "invalid_currency"
    LISTING_NOT_AVAILABLE = "listing_not_available"
    UNSUPPORTED_IMAGE = "unsupported_image"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_MANY_IMAGES = "too_many_images"


class CheckoutError(enum.Enum):
    """Addresses, checkout, orders, offers and bundles."""

    ADDRESS_REQUIRED = "address_required"
    TOO_MANY_ADDRESSES = "too_many_addresses"
    SOLD_OUT = "sold_out"
    CANNOT_BUY_OWN_LISTING = "cannot_buy_own_listing"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_ACTION_REQUIRED = "payment_action_required"  # authenticate the card (3-D Secure), then retry
    PAYMENT_UNAVAILABLE = "payment_unavailable"  # the provider did not answer: retry with the same key
    PRICE_CHANGED = "price_changed"
    ORDER_TRANSITION_NOT_ALLOWED = "order_transition_not_allowed"
    CANCELLATION_WINDOW_CLOSED = "cancellation_window_closed"
    ADD_ON_WINDOW_CLOSED = "add_on_window_closed"
    DIFFERENT_SELLER = "different_seller"
    OFFER_TOO_LOW = "offer_too_low"
    OFFER_TOO_HIGH = "offer_too_high"
    OFFER_ALREADY_PENDING = "offer_already_pending"
    OFFER_NOT_PENDING = "offer_not_pending"
    NOT_YOUR_TURN = "not_your_turn"
    BUNDLE_EMPTY = "bundle_empty"
    BUNDLE_FULL = "bundle_full"
    BUNDLE_HAS_PENDING_OFFER = "bundle_has_pending_offer"
    BUNDLE_ALREADY_ORDERED = "bundle_already_ordered"
    MIXED_CURRENCIES = "mixed_currencies"
    CURRENCY_CHANGED = "currency_changed"


# Django validators' codes (`ValidationError.code`) and ours for them.
DJANGO_CODES = {
    "invalid_currency": ListingError.INVALID_CURRENCY,
}
