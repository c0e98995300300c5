"""Open the written report in real headless Chromium: no console errors, no network,
every chart drawn with a non-zero size.

Needs Debian's ``chromium`` package at /usr/bin/chromium (``apt-get install -y
chromium``) and the ``playwright`` Python package; playwright's own browser
downloads are not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inferplan.planner.search import plan
from inferplan.report.html import write_plan_html
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario
from inferplan.specs.scenario import ScenarioSpec

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ALL_CHART_IDS = (
    "chart-cumulative-tco",
    "chart-cost-breakdown",
    "chart-break-even",
    "chart-pareto",
    "chart-latency-throughput",
    "chart-sensitivity",
    "chart-monte-carlo",
)
# Size of each chart's drawn plot: the main SVG if present, else the plot container.
CHART_BOX_JS = """(id) => {
  const div = document.getElementById(id);
  if (!div) return null;
  const el = div.querySelector('svg.main-svg') || div.querySelector('.plot-container');
  if (!el) return {w: 0, h: 0};
  const r = el.getBoundingClientRect();
  return {w: r.width, h: r.height};
}"""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium not installed at /usr/bin/chromium "
    "(apt-get update && apt-get install -y chromium)",
)


def _self_hosted(scenario: ScenarioSpec) -> ScenarioSpec:
    kinds = ["on_prem", "colocation", "cloud", "hybrid"]
    return scenario.model_copy(
        update={"candidates": scenario.candidates.model_copy(update={"kinds": kinds})}
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser: Any, path: Path, chart_ids: tuple[str, ...]) -> dict[str, Any]:
    """Load ``path``; return console errors, non-local requests and chart sizes."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    remote: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
            else remote.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    for div_id in chart_ids:
        page.wait_for_selector(f"#{div_id} svg.main-svg", state="attached", timeout=15_000)
    sizes = {div_id: page.evaluate(CHART_BOX_JS, div_id) for div_id in chart_ids}
    drawn = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
    has_plotly = page.evaluate("typeof window.Plotly === 'object'")
    page.close()
    return {"errors": errors, "remote": remote, "sizes": sizes, "drawn": drawn,
            "plotly": has_plotly}


def _check(seen: dict[str, Any], chart_ids: tuple[str, ...]) -> None:
    assert seen["errors"] == []
    assert seen["remote"] == [], "the report must not touch the network"
    assert seen["plotly"] is True
    assert seen["drawn"] == len(chart_ids)
    for div_id, box in seen["sizes"].items():
        assert box is not None, f"{div_id} missing"
        assert box["w"] > 100 and box["h"] > 100, (div_id, box)


def test_self_hosted_plan_draws_all_seven_charts(browser: Any, tmp_path: Path) -> None:
    scenario = _self_hosted(load_scenario("src/inferplan/examples/default.yaml"))
    path = tmp_path / "plan.html"
    write_plan_html(plan(scenario), scenario, path)
    seen = _open(browser, path, ALL_CHART_IDS)
    _check(seen, ALL_CHART_IDS)


def test_default_plan_draws_every_chart_it_has(browser: Any, tmp_path: Path) -> None:
    scenario = load_scenario("src/inferplan/examples/default.yaml")
    result: PlanResult = plan(scenario)
    path = tmp_path / "default.html"
    write_plan_html(result, scenario, path)
    text = path.read_text(encoding="utf-8")
    present = tuple(i for i in ALL_CHART_IDS if f'id="{i}"' in text)
    assert {"chart-cumulative-tco", "chart-cost-breakdown", "chart-pareto"} <= set(present)
    _check(_open(browser, path, present), present)
