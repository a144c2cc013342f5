"""Error codes of accounts; `DJANGO_CODES` names Django validators' codes in them.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class AccountError(enum.Enum):
    """Sign-up, sign-in, recovery and deleting an account."""

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


# Django validators' codes (`ValidationError.code`) and ours for them.
DJANGO_CODES = {
    "password_too_short": AccountError.PASSWORD_TOO_SHORT,
    "password_too_common": AccountError.PASSWORD_TOO_COMMON,
    "password_entirely_numeric": AccountError.PASSWORD_ENTIRELY_NUMERIC,
    "password_too_similar": AccountError.PASSWORD_TOO_SIMILAR,
    "invalid_time_zone": AccountError.INVALID_TIME_ZONE,
}
