import itertools

import pytest

from earnings.payouts import DevPayoutProvider, PayoutRefused
from tests.fakes import stripe_api
from tests.helpers import gid
from tests.marketplace.checkout_api import PURCHASE

KEYS = itertools.count()

MONEY = "{ amount currency }"
EARNINGS = f"""query($first: Int, $after: String) {{ earnings {{
  balances {{ currency pending {MONEY} available {MONEY} paidOut {MONEY} }}
  entries(first: $first, after: $after) {{
    edges {{ node {{ id kind state amount {MONEY} order {{ id status }} payout {{ id status }} }} }}
    pageInfo {{ hasNextPage endCursor }} }}
  payouts(first: $first, after: $after) {{
    edges {{ node {{ id status amount {MONEY} failure }} }} pageInfo {{ hasNextPage endCursor }} }}
  payoutAccount {{ createdAt }}
}} }}"""
REQUEST_PAYOUT = f"""mutation($input: RequestPayoutInput!) {{
  requestPayout(input: $input) {{ payout {{ id status amount {MONEY} failure }} errors {{ field code }} }} }}"""
CONNECT = """mutation($input: ConnectPayoutAccountInput!) {
  connectPayoutAccount(input: $input) { onboardingUrl payoutAccount { createdAt } errors { field code } } }"""


SHIP = """mutation($input: ShipOrderInput!) { shipOrder(input: $input) { errors { code } } }"""
ACCEPT = """mutation($input: OrderIdInput!) { acceptOrder(input: $input) { errors { code } } }"""


def ship_and_accept(call, order_id, seller_token, buyer_token):
    shipped = call(SHIP, {"input": {"orderId": order_id, "trackingNumber": "1Z999AA10123456784"}}, token=seller_token)
    assert shipped["data"]["shipOrder"]["errors"] == [], shipped
    accepted = call(ACCEPT, {"input": {"orderId": order_id}}, token=buyer_token)
    assert accepted["data"]["acceptOrder"]["errors"] == [], accepted


class RecordingPayoutProvider(DevPayoutProvider):
    """The dev provider keeping each transfer as (account, amount, currency, key); an account in
    `refuse` has its transfers refused."""

    transfers: list[tuple[str, object, str, str]] = []
    refuse: set[str] = set()

    def transfer(self, *, account_id, amount, currency, idempotency_key):
        if account_id in self.refuse:
            raise PayoutRefused("This account cannot receive payouts yet.")
        self.transfers.append((account_id, amount, currency, idempotency_key))
        return super().transfer(
            account_id=account_id, amount=amount, currency=currency, idempotency_key=idempotency_key
        )


@pytest.fixture(autouse=True)
def payout_provider(settings):
    settings.PAYOUT_PROVIDER = "tests.earnings.conftest.RecordingPayoutProvider"
    RecordingPayoutProvider.transfers, RecordingPayoutProvider.refuse = [], set()
    return RecordingPayoutProvider


def buy(call, token, listing):
    variables = {"input": {"listingId": gid(listing), "idempotencyKey": f"earnings-key-{next(KEYS)}"}}
    payload = call(PURCHASE, variables, token=token)["data"]["purchaseListing"]
    assert payload["errors"] == [], payload
    return payload["order"]


def earnings_of(call, token, **variables):
    body = call(EARNINGS, variables, token=token)
    assert "errors" not in body, body
    return body["data"]["earnings"]


def balance_of(call, token, currency="USD"):
    """(pending, available, paid out) as strings, zeros when the seller has no balance yet."""
    for balance in earnings_of(call, token)["balances"]:
        if balance["currency"] == currency:
            return balance["pending"]["amount"], balance["available"]["amount"], balance["paidOut"]["amount"]
    return "0.00", "0.00", "0.00"


def entries_of(call, token):
    return [
        (edge["node"]["kind"], edge["node"]["state"], edge["node"]["amount"]["amount"])
        for edge in earnings_of(call, token, first=100)["entries"]["edges"]
    ]


@pytest.fixture
def seller_with_earnings(api, make_user, make_buyer, make_listing):
    """A seller with 40.00 USD available (two accepted sales of 25.00): (seller, token)."""
    seller, seller_token = make_user("ava")
    _, buyer_token = make_buyer("marco")
    for _ in range(2):
        order = buy(api, buyer_token, make_listing(seller, price="25.00"))
        ship_and_accept(api, order["id"], seller_token, buyer_token)
    return seller, seller_token


def connect(call, token, country="US"):
    return call(CONNECT, {"input": {"country": country}}, token=token)["data"]["connectPayoutAccount"]


def request_payout(call, token, currency="USD"):
    return call(REQUEST_PAYOUT, {"input": {"currency": currency}}, token=token)["data"]["requestPayout"]


@pytest.fixture
def stripe_connect(settings, monkeypatch):
    """Payouts go through StripeConnectProvider to a fake Stripe on this helper's loopback ports."""
    monkeypatch.setattr(stripe_api, "PORTS", range(8150, 8160))
    fake = stripe_api.FakeStripe(stall_seconds=1.0)
    server, base = stripe_api.serve(fake)
    settings.PAYOUT_PROVIDER = "earnings.payouts.StripeConnectProvider"
    settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = base, "sk_test_closetline"
    settings.STRIPE_TIMEOUT, settings.STRIPE_MAX_NETWORK_RETRIES = 0.5, 0
    yield fake
    server.shutdown()
    server.server_close()
