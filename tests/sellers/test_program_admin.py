"""The community team's admin for the programs: edits go through the service, so they are audited
and the audit reads as "field: old → new" lines; one-row programs offer no "add another"; the
Program results page carries its charts' data (sellers.program_charts)."""

import html
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace import services as marketplace_services
from sellers.models import (
    AmbassadorProgram,
    FirstSaleNudge,
    FirstSaleNudgeProgram,
    FirstSaleShippingProgram,
    MentoringGroup,
    MentoringProgram,
    ProgramChange,
    SellerToolSettings,
)
from social import services as social_services
from tests.sellers.programs import run_program
from tests.sellers.test_program_results import DAY, joined

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
    return {
        "active": "on",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "ends_at_0": "2027-01-01",
        "ends_at_1": "00:00:00",
        "currency": "USD",
        "amount": "5.00",
        "per_order_cap": "6.49",
        "budget": "500.00",
    } | changes


@pytest.mark.parametrize(
    "page",
    [
        "firstsaleshippingprogram",
        "programchange",
        "shippingsubsidy",
        "firstsalenudgeprogram",
        "firstsalenudge",
        "ambassadorprogram",
        "ambassador",
        "mentoringprogram",
        "mentoringgroup",
        "mentoringprogram/add",
    ],
)
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
    assert "budget: 0.00 → 500.00<br>" in staff_client.get(f"{SHIPPING}{program.pk}/change/").content.decode()


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


def test_a_change_reads_as_field_old_new_lines_in_the_audit(staff_client):
    program = FirstSaleShippingProgram.current()
    staff_client.post(f"{SHIPPING}{program.pk}/change/", shipping_form(per_order_cap="6.00"))
    change = ProgramChange.objects.get()
    for page in (
        "/admin/sellers/programchange/",
        f"/admin/sellers/programchange/{change.pk}/change/",
        f"{SHIPPING}{program.pk}/change/",
    ):
        content = staff_client.get(page).content.decode()
        for line in (
            "active: no → yes",
            "per order cap: 6.49 → 6.00",
            "budget: 0.00 → 500.00",
            r"starts at: \d{4}-\d\d-\d\d \d\d:\d\d UTC → 2026-01-01 00:00 UTC",
            r"ends at: \d{4}-\d\d-\d\d \d\d:\d\d UTC → 2027-01-01 00:00 UTC",
        ):
            assert re.search(f"(>|<br>){line}<br>", content), (page, line)
        assert '"old"' not in html.unescape(content) and "{'old'" not in html.unescape(content), page


SINGLE_ROWS = [
    (FirstSaleShippingProgram, "firstsaleshippingprogram"),
    (FirstSaleNudgeProgram, "firstsalenudgeprogram"),
    (AmbassadorProgram, "ambassadorprogram"),
    (MentoringProgram, "mentoringprogram"),
    (SellerToolSettings, "sellertoolsettings"),
]


@pytest.mark.parametrize(("model", "page"), SINGLE_ROWS)
def test_a_one_row_model_offers_no_add_another(staff_client, model, page):
    add_page = staff_client.get(f"/admin/sellers/{page}/add/").content.decode()
    assert 'name="_save"' in add_page and 'name="_addanother"' not in add_page  # there is no other

    row = model.current()
    assert staff_client.get(f"/admin/sellers/{page}/add/").status_code == 403
    changelist = staff_client.get(f"/admin/sellers/{page}/").content.decode()
    assert f"/admin/sellers/{page}/add/" not in changelist
    change_page = staff_client.get(f"/admin/sellers/{page}/{row.pk}/change/").content.decode()
    assert 'name="_save"' in change_page and 'name="_addanother"' not in change_page
    assert f"/admin/sellers/{page}/add/" not in staff_client.get("/admin/sellers/").content.decode()


RESULTS_PAGE = "/admin/sellers/programresultsreport/"


def chart_data(response) -> dict:
    """The charts' data as the page carries it to Chart.js (json_script)."""
    found = re.search(
        r'<script id="program-charts" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(found.group(1))


def test_the_results_page_draws_its_charts_from_the_programs_figures(
    staff_client, admin_user, weeks, sale, make_user, make_listing, make_buyer, django_capture_on_commit_callbacks
):
    now, last_week, week_before = weeks
    # Last week: two nudged sellers (one sold 2 days after joining), one not nudged who sold after
    # 4 days. The week before: a mentored seller whose first sale came a day after joining.
    a1 = joined(make_user, "seller_a1", last_week + DAY, make_listing=make_listing)
    a2 = joined(make_user, "seller_a2", last_week + DAY, make_listing=make_listing)
    a3 = joined(make_user, "seller_a3", last_week + 2 * DAY, make_listing=make_listing)
    b1 = joined(make_user, "seller_b1", week_before + DAY, make_listing=make_listing)
    sale(a1, last_week + 3 * DAY)
    sale(a3, last_week + 6 * DAY)
    sale(b1, week_before + 2 * DAY)
    FirstSaleNudge.objects.bulk_create(FirstSaleNudge(seller=seller, kind="share") for seller in (a1, a2))
    conversation = social_services.start_group_conversation(title="Mentoring @b1", member_ids=[b1.pk])
    MentoringGroup.objects.create(mentee=b1, conversation=conversation)
    # The subsidy: two first orders of 5.00, one cancelled (its 5.00 back), budget 50.00.
    run_program(FirstSaleShippingProgram, admin_user, amount=Decimal("5.00"), budget=Decimal("50.00"))
    buyer = make_buyer("marco")[0]
    kept, cancelled = (
        marketplace_services.purchase_listing(
            buyer=buyer, listing=make_listing(make_user(name)[0]), idempotency_key=name
        )
        for name in ("nina", "olga")
    )
    with django_capture_on_commit_callbacks(execute=True):
        marketplace_services.cancel_order(order=cancelled, actor=buyer)

    response = staff_client.get(RESULTS_PAGE, {"weeks": "3"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "/static/vendor/chart.js/chart.umd.min.js" in content and "/static/sellers/program_results.js" in content
    assert content.count("<canvas") == 6
    charts = chart_data(response)
    week, previous, this_week = (
        last_week.date().isoformat(),
        week_before.date().isoformat(),
        (last_week + 7 * DAY).date().isoformat(),
    )
    nudges = charts["first_sale_rate"]["first_sale_nudges"]
    # This week: nina and olga (joined now, not nudged): nina's order counts, olga's was cancelled.
    assert nudges == {
        "title": "First-sale nudges",
        "labels": [previous, week, this_week],
        "in_program": [None, 50.0, None],
        "out_of_program": [100.0, 100.0, 50.0],
    }
    assert charts["first_sale_rate"]["mentoring"]["in_program"] == [100.0, None, None]
    # Average days to a first sale: nudged a1 2 days; not nudged b1 1 day, a3 4 days, nina ~0 days.
    time_to_first_sale = charts["time_to_first_sale"]
    assert time_to_first_sale["labels"] == ["First-sale shipping discount", "First-sale nudges", "First-sale mentoring"]
    assert time_to_first_sale["in_program"][1] == 2.0 and time_to_first_sale["in_program"][2] == 1.0
    assert time_to_first_sale["out_of_program"][1] == pytest.approx((1 + 4 + 0) / 3, abs=0.05)
    assert charts["subsidy"] == {
        "currency": "USD",
        "budget": 50.0,
        "spent": 5.0,
        "remaining": 45.0,
        "labels": [this_week],
        "spent_by_week": [5.0],
    }
    habit = charts["buyer_habit"]
    assert (habit["habit_orders"], habit["habit_days"]) == (4, 120)
    # The `sale` fixture's shopper bought from a1, a3 and b1 (first order in the week before last);
    # marco bought this week (his cancelled order does not count).
    assert (
        habit["labels"],
        habit["buyers"],
        habit["with_two_orders"],
        habit["with_three_orders"],
        habit["reached_habit"],
    ) == ([previous, this_week], [1, 1], [1, 0], [1, 0], [0, 0])


def test_the_results_page_runs_a_fixed_number_of_queries(
    staff_client, admin_user, weeks, sale, make_user, make_listing
):
    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(RESULTS_PAGE, {"weeks": "4"})
        assert response.status_code == 200
        return chart_data(response), len(captured.captured_queries)

    run_program(FirstSaleShippingProgram, admin_user, budget=Decimal("100.00"))
    count_queries()  # warm-up: the session
    _, few = count_queries()
    for number in range(12):
        seller = joined(make_user, f"seller{number}", weeks[1] + number % 5 * DAY, make_listing=make_listing)
        if number % 2:
            sale(seller, weeks[1] + 6 * DAY)
    charts, many = count_queries()
    assert few == many
    assert sum(charts["subsidy"]["spent_by_week"][-1:]) == charts["subsidy"]["spent"]
    assert len(charts["first_sale_rate"]["first_sale_nudges"]["labels"]) >= 1
