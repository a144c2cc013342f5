"""Stripe Connect on the local fake of Stripe's API (tests/fakes/stripe_api.py): Express accounts,
their onboarding links, transfers from the platform's balance to them, and that balance.

A new account cannot receive transfers until `complete_onboarding(fake, account_id)` plays the
seller finishing Stripe's forms; a transfer needs the platform's available balance, which
`fund(fake, cents, currency)` adds to (as captured payments would).
"""

import time

from tests.fakes.stripe_api import FakeStripe, StripeFailure, route

BALANCE = "balance"


def complete_onboarding(fake: FakeStripe, account_id: str) -> None:
    account = fake.get(account_id, "account")
    account.update(details_submitted=True, payouts_enabled=True, capabilities={"transfers": "active"})


def fund(fake: FakeStripe, cents: int, currency: str = "usd") -> None:
    available = _balance(fake)["available"]
    funds = next((each for each in available if each["currency"] == currency), None)
    if funds is None:
        available.append({"amount": cents, "currency": currency})
    else:
        funds["amount"] += cents


def transfers(fake: FakeStripe) -> list[dict]:
    return [thing for thing in fake.objects.values() if thing["object"] == "transfer"]


def _balance(fake: FakeStripe) -> dict:
    return fake.objects.setdefault(BALANCE, {"object": "balance", "livemode": False, "available": [], "pending": []})


def _invalid(message: str, code: str | None = None, param: str | None = None) -> StripeFailure:
    return StripeFailure(400, {"type": "invalid_request_error", "code": code, "param": param, "message": message})


@route("POST", "/v1/accounts")
def create_account(fake, params):
    if params.get("type") != "express":
        raise _invalid("This fake only opens Express accounts.", param="type")
    requested = params.get("capabilities", {})
    return fake.store(
        {
            "id": fake.new_id("acct"),
            "object": "account",
            "type": "express",
            "email": params.get("email"),
            "country": params.get("country", "US"),
            "details_submitted": False,
            "payouts_enabled": False,
            "capabilities": {name: "inactive" for name in requested},
            "created": int(time.time()),
        }
    )


@route("GET", "/v1/accounts/([^/]+)")
def retrieve_account(fake, params, account_id):
    return fake.get(account_id, "account")


@route("POST", "/v1/account_links")
def create_account_link(fake, params):
    account = fake.get(params.get("account", ""), "account")
    for url in ("refresh_url", "return_url"):
        if not params.get(url, "").startswith(("http://", "https://")):
            raise _invalid(f"Invalid URL: {url} must be an http or https URL.", param=url)
    now = int(time.time())
    return {
        "object": "account_link",
        "created": now,
        "expires_at": now + 300,
        "url": f"https://connect.stripe.com/setup/e/{account['id']}/{fake.new_id('link')}",
    }


@route("POST", "/v1/transfers")
def create_transfer(fake, params):
    account = fake.get(params.get("destination", ""), "account")
    if account["capabilities"].get("transfers") != "active":
        raise _invalid(
            "Your destination account needs to have at least one of the following capabilities enabled: "
            "transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    amount, currency = int(params["amount"]), params["currency"]
    funds = next((each for each in _balance(fake)["available"] if each["currency"] == currency), None)
    if funds is None or funds["amount"] < amount:
        raise _invalid("You have insufficient available funds in your Stripe account.", code="balance_insufficient")
    funds["amount"] -= amount
    return fake.store(
        {
            "id": fake.new_id("tr"),
            "object": "transfer",
            "amount": amount,
            "currency": currency,
            "destination": account["id"],
            "reversed": False,
            "created": int(time.time()),
        }
    )


@route("GET", "/v1/transfers")
def list_transfers(fake, params):
    found = [each for each in transfers(fake) if params.get("destination") in (None, each["destination"])]
    return {"object": "list", "url": "/v1/transfers", "has_more": False, "data": found}


@route("GET", "/v1/balance")
def retrieve_balance(fake, params):
    return _balance(fake)
