"""The community team's admin for the programs: edits go through the service, so they are audited."""

from decimal import Decimal

import pytest
from django.test import Client

from sellers.models import FirstSaleShippingProgram, ProgramChange

pytestmark = pytest.mark.django_db

SHIPPING = "/admin/sellers/firstsaleshippingprogram/"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "a-long-enough-passphrase")


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def shipping_form(**changes):
    return {"active": "on", "starts_at_0": "2026-01-01", "starts_at_1": "00:00:00", "ends_at_0": "2027-01-01",
            "ends_at_1": "00:00:00", "currency": "USD", "amount": "5.00", "per_order_cap": "6.49",
            "budget": "500.00"} | changes


@pytest.mark.parametrize("page", ["firstsaleshippingprogram", "programchange", "shippingsubsidy",
                                  "firstsalenudgeprogram", "firstsalenudge", "ambassadorprogram", "ambassador",
                                  "mentoringprogram", "mentoringgroup", "mentoringprogram/add"])
def test_program_pages_render(staff_client, page):
    FirstSaleShippingProgram.current()
    assert staff_client.get(f"/admin/sellers/{page}/").status_code == 200


def test_an_edit_in_the_admin_is_saved_through_the_service_and_audited(staff_client, admin_user):
    program = FirstSaleShippingProgram.current()
    response = staff_client.post(f"{SHIPPING}{program.pk}/change/", shipping_form())
    assert response.status_code == 302
    program.refresh_from_db()
    assert (program.active, program.budget, program.starts_at.year) == (True, Decimal("500.00"), 2026)
    change = ProgramChange.objects.get()
    assert change.changed_by == admin_user and change.program == "first_sale_shipping"
    assert change.changes["budget"] == {"old": "0.00", "new": "500.00"}
    assert change.changes["active"] == {"old": False, "new": True}
    assert b"budget 0.00 \xe2\x86\x92 500.00" in staff_client.get(f"{SHIPPING}{program.pk}/change/").content


def test_the_admin_refuses_a_budget_below_what_is_spent(staff_client):
    program = FirstSaleShippingProgram.current()
    FirstSaleShippingProgram.objects.update(budget=Decimal("50.00"), spent=Decimal("40.00"))
    response = staff_client.post(f"{SHIPPING}{program.pk}/change/", shipping_form(budget="30.00"))
    assert response.status_code == 200 and b"The budget cannot be below what is already spent." in response.content
    program.refresh_from_db()
    assert program.budget == Decimal("50.00") and not ProgramChange.objects.exists()


def test_the_results_page_shows_the_programs_figures(staff_client, make_user, make_listing):
    make_listing(make_user("nina")[0])
    response = staff_client.get("/admin/sellers/programresultsreport/", {"weeks": "4"})
    assert response.status_code == 200
    assert b"First sales, by join week" in response.content and b"First-sale mentoring" in response.content
