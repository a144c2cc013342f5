"""Acceptance: the community team's *Program results* page, served by daphne as `make run` serves it
(static files through WhiteNoise), draws its charts with the project's own Chart.js in headless
Chromium that can reach nothing but loopback. A screenshot goes to screenshots/."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from marketplace import services as marketplace_services
from sellers.models import FirstSaleShippingProgram
from tests.browser import requested_urls, wait_for
from tests.sellers.programs import run_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "a-long-enough-passphrase"
PORT = 8121  # this suite's range (8120-8129)

DRAWN = """
    if (typeof Chart === "undefined") return null;
    const canvases = Array.from(document.querySelectorAll("canvas[data-chart]"));
    const charts = canvases.map(canvas => Chart.getChart(canvas));
    if (!canvases.length || charts.some(chart => !chart)) return null;
    return charts.map((chart, i) => ({chart: canvases[i].dataset.chart, type: chart.config.type,
        datasets: chart.data.datasets.length, points: chart.data.datasets[0].data.length,
        width: canvases[i].width, title: chart.options.plugins.title.text}));"""


def test_the_program_results_charts_are_drawn_by_the_projects_chart_js(
    processes, browser, django_user_model, make_user, make_listing, make_buyer, category
):
    staff = django_user_model.objects.create_superuser("community", "community@example.com", PASSWORD)
    # The tests' fast hasher is not one the server knows: the password as the server stores them.
    django_user_model.objects.filter(pk=staff.pk).update(password=PBKDF2PasswordHasher().encode(PASSWORD, "e2esalt"))
    run_program(FirstSaleShippingProgram, staff, amount=Decimal("5.00"), budget=Decimal("50.00"))
    buyer = make_buyer("marco")[0]
    for name in ("nina", "olga"):
        seller = make_user(name)[0]
        make_listing(seller, title="Unsold")
        marketplace_services.purchase_listing(buyer=buyer, listing=make_listing(seller), idempotency_key=name)
    base_url = f"http://127.0.0.1:{processes.daphne(port=PORT, DEBUG='1')}"

    browser.get(f"{base_url}/admin/login/?next=/admin/sellers/programresultsreport/%3Fweeks%3D4")
    wait_for(browser, (By.NAME, "username")).send_keys("community")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, (By.CSS_SELECTOR, "canvas[data-chart]"))
    drawn = WebDriverWait(browser, 15).until(lambda driver: driver.execute_script(DRAWN))

    assert [chart["chart"] for chart in drawn] == ["first_sale_rate"] * 3 + [
        "time_to_first_sale",
        "subsidy",
        "buyer_habit",
    ]
    assert [chart["type"] for chart in drawn] == ["line"] * 3 + ["bar", "line", "bar"]
    assert all(chart["width"] > 100 and chart["datasets"] >= 2 and chart["points"] >= 1 for chart in drawn), drawn
    assert drawn[4]["title"] == "Shipping subsidy: 10 of 50 USD spent"
    assert browser.execute_script("return Chart.version") == "4.6.2"  # package.json's pin

    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "program_results.png"))
    urls = requested_urls(browser)
    assert f"{base_url}/static/vendor/chart.js/chart.umd.min.js" in urls
    assert all(url.startswith(("http://127.0.0.1", "data:")) for url in urls), urls
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert [message for message in errors if "favicon.ico" not in message] == []
