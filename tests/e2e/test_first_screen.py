"""Acceptance, as a newcomer meets the project: `make run` on a fresh database, then GraphiQL and the
admin in headless Chromium that can reach nothing but loopback. Screenshots go to screenshots/."""

import json
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import requested_urls, wait_for

SCREENSHOTS = Path(__file__).parent / "screenshots"
DEMO_PASSWORD = "closetline-demo"
SET_UP_LINES = 15  # what `make run` may print before the server's own first line


@pytest.fixture
def served(processes):
    port, log = processes.make_run()
    return f"http://127.0.0.1:{port}", log


def post(base_url: str, query: str, **variables) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{base_url}/graphql/", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]


def login(base_url: str, username: str) -> str:
    query = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }"
    return post(base_url, query, u=username, p=DEMO_PASSWORD)["login"]["token"]


def set_editor(browser, container_selector: str, text: str) -> None:
    """Type into one of GraphiQL's CodeMirror editors as a user would see it typed."""
    browser.execute_script(
        "document.querySelector(arguments[0] + ' .CodeMirror').CodeMirror.setValue(arguments[1])",
        container_selector,
        text,
    )


def run_and_read_result(browser, query: str) -> dict:
    set_editor(browser, ".graphiql-query-editor", query)
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    def result(driver):
        text = driver.execute_script(
            "return document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
        )
        return json.loads(text) if text.strip() else None

    return WebDriverWait(browser, 15).until(result)


def test_make_run_is_quiet_before_the_server_starts(served):
    _, log = served
    lines = log.read_text().splitlines()
    server_line = next(number for number, line in enumerate(lines) if "Starting server at" in line)
    assert server_line <= SET_UP_LINES, "\n".join(lines[:server_line])
    assert any("GraphiQL http://127.0.0.1" in line for line in lines[:server_line])
    assert not any(line.startswith("Task ") for line in lines[:server_line])


@pytest.mark.browser
def test_graphiql_runs_a_query_with_the_bearer_header_offline(served, browser):
    base_url, _ = served
    token = login(base_url, "ava")
    browser.get(f"{base_url}/graphql/")
    wait_for(browser, (By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror"))

    listings = run_and_read_result(browser, "{ listings(first: 3) { edges { node { title } } } }")
    assert len(listings["data"]["listings"]["edges"]) == 3

    browser.find_element(By.XPATH, "//button[normalize-space()='Headers']").click()
    set_editor(
        browser, ".graphiql-editor-tool .graphiql-editor:not(.hidden)", json.dumps({"Authorization": f"Bearer {token}"})
    )
    me = run_and_read_result(browser, "{ me { username } }")
    assert me == {"data": {"me": {"username": "ava"}}}

    # A subscription over the page's WebSocket, its token in connection_init: the show's snapshot.
    show_id = post(base_url, "{ liveShows(first: 1) { edges { node { id } } } }")["liveShows"]["edges"][0]["node"]["id"]
    event = run_and_read_result(
        browser, f'subscription {{ showEvents(showId: "{show_id}") {{ type snapshot {{ state }} }} }}'
    )
    assert event.get("data", {}).get("showEvents", {}).get("type") == "SNAPSHOT", event

    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "graphiql.png"))
    assert all(url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:")) for url in requested_urls(browser))
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert [message for message in errors if "favicon.ico" not in message] == []


@pytest.mark.browser
def test_the_admin_is_styled(served, browser):
    base_url, _ = served
    browser.get(f"{base_url}/admin/login/?next=/admin/")
    wait_for(browser, (By.NAME, "username")).send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(browser, (By.ID, "site-name"))

    stylesheets = browser.execute_script(
        "return Array.from(document.styleSheets).map(s => [s.href, s.cssRules.length])"
    )
    loaded = {href.rsplit("/", 1)[-1]: rules for href, rules in stylesheets if href}
    assert loaded.get("base.css", 0) > 100, loaded
    header = browser.find_element(By.ID, "header")
    assert header.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"  # the admin's blue bar

    SCREENSHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "admin.png"))
    assert all(url.startswith(("http://127.0.0.1", "data:")) for url in requested_urls(browser))
