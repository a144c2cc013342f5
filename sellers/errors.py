"""Error codes of the seller tools and of the seller programs.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class SellerToolError(enum.Enum):
    """Greetings, templates and upsells."""

    NOT_A_RECENT_VISITOR = "not_a_recent_visitor"
    ALREADY_GREETED = "already_greeted"
    GREETINGS_OFF = "greetings_off"
    TEMPLATE_IN_USE = "template_in_use"
    TOO_MANY_TEMPLATES = "too_many_templates"
    UPSELL_ALREADY_SENT = "upsell_already_sent"


class ProgramError(enum.Enum):
    """Seller programs (first sale, ambassadors, mentors)."""

    NOT_AN_AMBASSADOR = "not_an_ambassador"
    PROGRAM_NOT_RUNNING = "program_not_running"
    FIRST_SALE_ALREADY_MADE = "first_sale_already_made"
    NO_MENTORS_AVAILABLE = "no_mentors_available"
