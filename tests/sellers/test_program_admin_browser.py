"""Acceptance, in a real browser: a staff member sets the first-sale shipping discount in the Django
admin, and the program and its audit entry are saved (headless Chromium through selenium)."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By

from sellers.models import FirstSaleShippingProgram, ProgramChange
from tests.browser import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase"


def fill(browser, name, value):
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def test_staff_set_the_shipping_discount_in_the_admin_and_the_change_is_audited(
    live_server, browser, django_user_model
):
    staff = django_user_model.objects.create_superuser("community", "community@example.com", PASSWORD)
    FirstSaleShippingProgram.current()

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    fill(browser, "username", "community")
    fill(browser, "password", PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, (By.LINK_TEXT, "First-sale shipping discount")).click()
    wait_for(browser, (By.CSS_SELECTOR, "#result_list tbody th a")).click()

    checkbox = wait_for(browser, (By.NAME, "active"))
    if not checkbox.is_selected():
        checkbox.click()
    for name, value in (
        ("starts_at_0", "2026-01-01"),
        ("starts_at_1", "00:00:00"),
        ("ends_at_0", "2027-06-30"),
        ("ends_at_1", "23:59:00"),
        ("currency", "USD"),
        ("amount", "5.00"),
        ("per_order_cap", "6.00"),
        ("budget", "750.00"),
    ):
        fill(browser, name, value)
    browser.find_element(By.NAME, "_save").click()
    assert "was changed successfully" in wait_for(browser, (By.CSS_SELECTOR, ".messagelist .success")).text

    program = FirstSaleShippingProgram.objects.get()
    assert (program.active, program.amount, program.per_order_cap, program.budget) == (
        True,
        Decimal("5.00"),
        Decimal("6.00"),
        Decimal("750.00"),
    )
    assert (program.starts_at.isoformat(), program.ends_at.isoformat()) == (
        "2026-01-01T00:00:00+00:00",
        "2027-06-30T23:59:00+00:00",
    )
    change = ProgramChange.objects.get()
    assert change.changed_by == staff and change.program == "first_sale_shipping"
    assert change.changes["budget"] == {"old": "0.00", "new": "750.00"}
    assert change.changes["per_order_cap"] == {"old": "6.49", "new": "6.00"}
    assert change.changes["active"] == {"old": False, "new": True}
    assert "amount" not in change.changes  # given at its default: nothing changed
