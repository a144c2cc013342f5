"""The `Error` of every mutation payload, and its `ErrorCode`: one GraphQL enum of every app's codes."""

import enum

import graphene

from accounts.errors import AccountError
from cases.errors import CaseError
from config.errors import CommonError
from earnings.errors import EarningsError
from live.errors import LiveError
from marketplace.errors import CheckoutError, ListingError
from notifications.errors import NotificationError
from reviews.errors import ReviewError
from sellers.errors import ProgramError, SellerToolError
from social.errors import SocialError

DOMAIN_CODES = (
    CommonError,
    AccountError,
    ListingError,
    CheckoutError,
    SocialError,
    NotificationError,
    SellerToolError,
    LiveError,
    ProgramError,
    ReviewError,
    CaseError,
    EarningsError,
)
# The functional API refuses a name given twice, so two apps cannot claim one code.
ErrorCode = enum.Enum("ErrorCode", [(code.name, code.value) for domain in DOMAIN_CODES for code in domain])
ErrorCodeEnum = graphene.Enum.from_enum(ErrorCode, description="Why an operation failed.")


def graphql_code(code: enum.Enum) -> ErrorCode:
    """The GraphQL enum's member for an app's code."""
    return ErrorCode[code.name]


class Error(graphene.ObjectType):
    """An expected failure: nothing was changed."""

    field = graphene.String(description="The input field at fault, in camelCase; null when the whole input is.")
    code = graphene.Field(ErrorCodeEnum, required=True)
    message = graphene.String(required=True, description="A message fit to show the user.")
    client_secret = graphene.String(
        description="With PAYMENT_ACTION_REQUIRED: the payment's client secret, for the payment sheet to "
        "authenticate the card (3-D Secure); then send the same mutation again with the same idempotency key."
    )
