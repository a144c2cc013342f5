"""Error codes of earnings.

Members are added, never renamed: clients switch on them (config/graphql/errors.py puts every
app's codes in the one `ErrorCode` GraphQL enum)."""

import enum


class EarningsError(enum.Enum):
    """Balances, payouts and payout accounts."""

    NOTHING_TO_PAY_OUT = "nothing_to_pay_out"
    BELOW_PAYOUT_MINIMUM = "below_payout_minimum"
    NO_PAYOUT_ACCOUNT = "no_payout_account"
    PAYOUT_PROVIDER_UNAVAILABLE = "payout_provider_unavailable"
    BALANCE_NOT_SETTLED = "balance_not_settled"
