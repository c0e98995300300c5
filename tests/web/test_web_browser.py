"""The UI in a real headless Chromium (Debian's package, driven by Playwright):
create a scenario (meeting a validation message on the way), run a plan, watch it
finish, read the recommendation and see a rendered chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")


@pytest.fixture
def page(live_server: str) -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1366, "height": 800})
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        outside: list[str] = []
        pg.on("request", lambda r: None if r.url.startswith(live_server)
              or r.url.startswith("data:") else outside.append(r.url))
        pg.errors = errors  # type: ignore[attr-defined]
        pg.outside = outside  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_create_scenario_run_plan_see_recommendation_and_chart(page: Any, live_server: str
                                                               ) -> None:
    page.goto(f"{live_server}/ui/")
    page.click("#new-scenario")
    page.wait_for_selector("#scenario-form")
    assert page.input_value("#f-name") == "eu-internal-assistant"  # the bundled example

    # an invalid value gets its message next to the field, nothing is saved
    page.fill("#f-name", "browser-check")
    page.fill("#f-workload\\.users", "-5")
    page.click("#save")
    error = page.wait_for_selector('[data-error-for="workload.users"]:not(:empty)')
    assert "greater than or equal to 1" in error.inner_text()
    assert "invalid" in (page.get_attribute('[data-wrap="workload.users"]', "class") or "")
    assert httpx.get(f"{live_server}/api/v1/scenarios").json()["total"] == 0

    page.fill("#f-workload\\.users", "3000")
    page.click("#save-run")
    page.wait_for_url("**/ui/plans/*")
    plan_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    rec = page.wait_for_selector("#recommendation", timeout=90_000)

    stored = httpx.get(f"{live_server}/api/v1/plans/{plan_id}").json()
    assert stored["status"] == "succeeded"
    assert stored["scenario_document"]["workload"]["users"] == 3000
    assert stored["recommended_option"] in rec.inner_text()
    page.wait_for_selector("#chart-npv .main-svg")
    bars = page.locator("#chart-npv .trace.bars .point")
    assert bars.count() == min(15, len(stored["result"]["options"]))
    page.wait_for_selector("#chart-cash .main-svg")
    assert page.errors == []  # type: ignore[attr-defined]
    assert page.outside == []  # type: ignore[attr-defined]  (nothing from other hosts)

    # the scenario page lists the plan and the first version
    page.click("text=browser-check")
    page.wait_for_selector("text=History")
    assert page.locator(f'a[href="/ui/plans/{plan_id}"]').count() >= 1
