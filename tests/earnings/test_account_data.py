"""Deleting an account waits for its earnings to be paid out; the export includes the ledger."""

import pytest

from earnings import account_data
from tests.earnings.conftest import connect, request_payout

pytestmark = pytest.mark.django_db

DELETE = """mutation($input: DeleteAccountInput!) { deleteAccount(input: $input) { deleted errors { code } } }"""


def delete_account(call, token):
    return call(DELETE, {"input": {"password": "a-long-enough-passphrase"}}, token=token)["data"]["deleteAccount"]


def test_a_seller_with_earnings_to_pay_out_cannot_delete_their_account_yet(api, seller_with_earnings):
    _, token = seller_with_earnings
    assert delete_account(api, token) == {"deleted": None, "errors": [{"code": "BALANCE_NOT_SETTLED"}]}
    connect(api, token)
    request_payout(api, token)
    assert delete_account(api, token) == {"deleted": True, "errors": []}


def test_the_export_holds_balances_entries_and_payouts(api, seller_with_earnings):
    seller, token = seller_with_earnings
    connect(api, token)
    request_payout(api, token)
    exported = account_data.export(seller)
    assert [(each["currency"], str(each["paid_out"])) for each in exported["balances"]] == [("USD", "40.00")]
    assert [each["kind"] for each in exported["entries"]] == ["sale", "commission"] * 2 + ["payout"]
    assert [str(each["amount"]) for each in exported["payouts"]] == ["40.00"]
