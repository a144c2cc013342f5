"""Error codes of reviews.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class ReviewError(enum.Enum):
    """Buyers' reviews of accepted orders and sellers' answers."""

    ORDER_NOT_ACCEPTED = "order_not_accepted"
    NOT_THE_BUYER = "not_the_buyer"
    ALREADY_REVIEWED = "already_reviewed"
    NOT_THE_SELLER = "not_the_seller"
    ALREADY_ANSWERED = "already_answered"
