"""Error codes of cases.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class CaseError(enum.Enum):
    """Buyers' cases about orders: opening, messages, resolution."""

    CASE_WINDOW_CLOSED = "case_window_closed"
    CASE_NOT_THE_BUYER = "case_not_the_buyer"
    CASE_NOT_THE_SELLER = "case_not_the_seller"
    CASE_ALREADY_OPEN = "case_already_open"
    CASE_CLOSED = "case_closed"
    TOO_MANY_CASE_PHOTOS = "too_many_case_photos"
