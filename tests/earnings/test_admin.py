"""The community team's view of earnings: settings, the ledger and payouts read-only, CSV export."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from earnings import services
from earnings.models import EarningsSettings, LedgerEntry, Payout
from marketplace import services as marketplace_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def sale(make_user, make_buyer, make_listing, django_capture_on_commit_callbacks):
    """A sale of 25.00 by ava, accepted, and paid out."""
    seller, _ = make_user("ava")
    buyer, _ = make_buyer("marco")
    with django_capture_on_commit_callbacks(execute=True):
        order = marketplace_services.purchase_listing(
            buyer=buyer, listing=make_listing(seller, price="25.00"), idempotency_key="k"
        )
        marketplace_services.ship_order(order=order, actor=seller, tracking_number="1Z999AA10123456784")
        marketplace_services.accept_order(order=order, actor=buyer)
    with django_capture_on_commit_callbacks(execute=True):  # once the acceptance was booked
        services.connect_payout_account(seller=seller, country="US")
        services.request_payout(seller=seller, currency="USD")
    return order


@pytest.mark.parametrize("model", ["ledgerentry", "payout", "earningsaccount", "payoutaccount", "earningssettings"])
def test_changelists_render_with_their_filters(staff_client, sale, model):
    assert staff_client.get(f"/admin/earnings/{model}/", {"q": "ava"}).status_code == 200


def test_ledger_entries_are_filtered_and_read_only(staff_client, sale):
    page = staff_client.get("/admin/earnings/ledgerentry/", {"kind__exact": "payout"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    entry = LedgerEntry.objects.first()
    page = staff_client.get(f"/admin/earnings/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]
    staff_client.post(f"/admin/earnings/ledgerentry/{entry.pk}/delete/", {"post": "yes"})
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("model", "header", "rows"),
    [
        ("ledgerentry", "kind", [["sale", "25.00"], ["commission", "-5.00"], ["payout", "-20.00"]]),
        ("payout", "status", [["paid", "20.00"]]),
    ],
)
def test_staff_export_the_selected_rows_as_csv(staff_client, sale, model, header, rows):
    ids = [str(pk) for pk in (LedgerEntry if model == "ledgerentry" else Payout).objects.values_list("pk", flat=True)]
    response = staff_client.post(f"/admin/earnings/{model}/", {"action": "export_csv", "_selected_action": ids})
    assert response["Content-Type"] == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [[row[header], row["amount"]] for row in table] == rows
    assert {row["seller__username"] for row in table} == {"ava"}


def test_staff_set_the_commission_rule_and_the_schedule(staff_client):
    fields = {
        "commission_threshold": "20.00",
        "commission_flat_fee": "3.50",
        "commission_percent": "15.0",
        "payout_schedule": "daily",
        "payout_weekday": "0",
        "payout_minimum": "5.00",
    }
    assert staff_client.post("/admin/earnings/earningssettings/add/", fields).status_code == 302
    rule = EarningsSettings.current()
    assert (rule.commission_percent, rule.payout_schedule) == (Decimal("15.0"), "daily")
    assert staff_client.get("/admin/earnings/earningssettings/add/").status_code == 403
