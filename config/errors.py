"""Expected failures of services, with a code clients can switch on.

Services raise `ServiceError`; the GraphQL layer turns it into `errors: [Error!]!` on a mutation
payload, or a top-level error with `extensions.code` on a query. The codes are one shared
vocabulary (the `ErrorCode` GraphQL enum); add members, never rename them.
"""

import enum
from dataclasses import dataclass

from django.core.exceptions import ValidationError


class ErrorCode(enum.Enum):
    # General
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    # Accounts
    DUPLICATE_USERNAME = "duplicate_username"
    USERNAME_LOOKS_TAKEN = "username_looks_taken"
    DUPLICATE_EMAIL = "duplicate_email"
    INVALID_CREDENTIALS = "invalid_credentials"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_TOO_COMMON = "password_too_common"
    PASSWORD_ENTIRELY_NUMERIC = "password_entirely_numeric"
    PASSWORD_TOO_SIMILAR = "password_too_similar"
    INVALID_TIME_ZONE = "invalid_time_zone"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"
    ACCOUNT_HAS_OPEN_ORDERS = "account_has_open_orders"
    ACCOUNT_HAS_LIVE_SHOW = "account_has_live_show"
    # Marketplace
    INVALID_PRICE = "invalid_price"
    INVALID_CURRENCY = "invalid_currency"
    LISTING_NOT_AVAILABLE = "listing_not_available"
    UNSUPPORTED_IMAGE = "unsupported_image"
    IMAGE_TOO_LARGE = "image_too_large"
    TOO_MANY_IMAGES = "too_many_images"
    # Orders
    ADDRESS_REQUIRED = "address_required"
    TOO_MANY_ADDRESSES = "too_many_addresses"
    SOLD_OUT = "sold_out"
    CANNOT_BUY_OWN_LISTING = "cannot_buy_own_listing"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    PAYMENT_DECLINED = "payment_declined"
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
    # Social
    BLOCKED = "blocked"
    CANNOT_TARGET_SELF = "cannot_target_self"
    TOO_MANY_MENTIONS = "too_many_mentions"
    CONVERSATION_CLOSED = "conversation_closed"
    # Notifications
    INVALID_DEVICE_TOKEN = "invalid_device_token"
    DEVICE_TOKEN_IN_USE = "device_token_in_use"
    INVALID_QUIET_HOURS = "invalid_quiet_hours"
    DAILY_CAP_OUT_OF_RANGE = "daily_cap_out_of_range"
    # Sellers
    NOT_A_RECENT_VISITOR = "not_a_recent_visitor"
    ALREADY_GREETED = "already_greeted"
    GREETINGS_OFF = "greetings_off"
    TEMPLATE_IN_USE = "template_in_use"
    TOO_MANY_TEMPLATES = "too_many_templates"
    UPSELL_ALREADY_SENT = "upsell_already_sent"
    # Live
    SHOW_NOT_SCHEDULED = "show_not_scheduled"
    SHOW_NOT_LIVE = "show_not_live"
    SHOW_ENDED = "show_ended"
    COHOST_LIMIT_REACHED = "cohost_limit_reached"
    LISTING_NOT_IN_SHOW = "listing_not_in_show"
    LISTING_ALREADY_IN_SHOW = "listing_already_in_show"
    LINE_UP_FULL = "line_up_full"
    LISTING_NOT_FEATURED = "listing_not_featured"
    MESSAGE_TOO_LONG = "message_too_long"
    SLOW_MODE = "slow_mode"
    MUTED_WORD = "muted_word"
    VIEWER_MUTED = "viewer_muted"
    VIEWER_REMOVED = "viewer_removed"
    AUCTION_RUNNING = "auction_running"
    AUCTION_ENDED = "auction_ended"
    BID_TOO_LOW = "bid_too_low"
    ALREADY_HIGHEST_BIDDER = "already_highest_bidder"
    CURATION_NOT_ALLOWED = "curation_not_allowed"
    AUCTION_NOT_ALLOWED = "auction_not_allowed"
    BELOW_AUCTION_FLOOR = "below_auction_floor"
    SHOW_STAFF_CANNOT_BID = "show_staff_cannot_bid"
    # Programs
    NOT_AN_AMBASSADOR = "not_an_ambassador"
    PROGRAM_NOT_RUNNING = "program_not_running"
    FIRST_SALE_ALREADY_MADE = "first_sale_already_made"
    NO_MENTORS_AVAILABLE = "no_mentors_available"


@dataclass(frozen=True)
class FieldError:
    code: ErrorCode
    message: str
    field: str | None = None


class ServiceError(Exception):
    """One or more expected failures; raising it means nothing was changed."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None):
        self.errors = [FieldError(code, message, field)]
        super().__init__(message)

    @classmethod
    def many(cls, errors: list[FieldError]) -> "ServiceError":
        error = cls(errors[0].code, errors[0].message, errors[0].field)
        error.errors = list(errors)
        return error

    @classmethod
    def from_validation_error(cls, exc: ValidationError, field: str | None = None) -> "ServiceError":
        """Map Django validation errors (model constraints, password validators) to codes."""
        errors = []
        for error_field, field_errors in _by_field(exc, field):
            for item in field_errors:
                code = _CODE_BY_DJANGO_CODE.get(item.code or "", ErrorCode.INVALID)
                errors.append(FieldError(code, " ".join(item.messages), error_field))
        return cls.many(errors)


_CODE_BY_DJANGO_CODE = {
    "required": ErrorCode.REQUIRED,
    "blank": ErrorCode.REQUIRED,
    "null": ErrorCode.REQUIRED,
    "unique": ErrorCode.INVALID,
    "password_too_short": ErrorCode.PASSWORD_TOO_SHORT,
    "password_too_common": ErrorCode.PASSWORD_TOO_COMMON,
    "password_entirely_numeric": ErrorCode.PASSWORD_ENTIRELY_NUMERIC,
    "password_too_similar": ErrorCode.PASSWORD_TOO_SIMILAR,
    "invalid_time_zone": ErrorCode.INVALID_TIME_ZONE,
    "invalid_currency": ErrorCode.INVALID_CURRENCY,
}


def _by_field(exc: ValidationError, field: str | None):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            yield (None if name == "__all__" else name), errors
    else:
        yield field, exc.error_list
