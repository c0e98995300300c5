"""The plan report page: content, self-containment, chart divs and HTML escaping."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

from inferplan.planner.search import plan
from inferplan.report.html import ms, render_plan_html, usd
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario
from inferplan.specs.scenario import ScenarioSpec

DEFAULT = "src/inferplan/examples/default.yaml"
# The seven chart divs the report promises (written out, not imported, so that a
# renamed id fails here).
ALL_CHART_IDS = (
    "chart-cumulative-tco",
    "chart-cost-breakdown",
    "chart-break-even",
    "chart-pareto",
    "chart-latency-throughput",
    "chart-sensitivity",
    "chart-monte-carlo",
)
EXTERNAL_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def esc(text: object) -> str:
    """Text as Jinja2's autoescaping writes it (markupsafe: ' -> &#39;, " -> &#34;)."""
    return str(escape(str(text)))


def self_hosted(scenario: ScenarioSpec) -> ScenarioSpec:
    """The default scenario without APIs: the pick runs its own hardware, so it has a
    simulated latency check and curve."""
    kinds = ["on_prem", "colocation", "cloud", "hybrid"]
    return scenario.model_copy(
        update={"candidates": scenario.candidates.model_copy(update={"kinds": kinds})}
    )


def rename(result: PlanResult, old: str, new: str) -> PlanResult:
    """The same plan with option ``old`` called ``new`` everywhere (keys, texts, lists)."""
    dumped = result.model_dump_json()
    return PlanResult.model_validate_json(
        dumped.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    )


@pytest.fixture(scope="module")
def scenario() -> ScenarioSpec:
    return load_scenario(DEFAULT)


@pytest.fixture(scope="module")
def default_plan(scenario: ScenarioSpec) -> PlanResult:
    return plan(scenario)


@pytest.fixture(scope="module")
def default_page(default_plan: PlanResult, scenario: ScenarioSpec) -> str:
    return render_plan_html(default_plan, scenario)


@pytest.fixture(scope="module")
def hosted(scenario: ScenarioSpec) -> tuple[ScenarioSpec, PlanResult, str]:
    s = self_hosted(scenario)
    r = plan(s)
    return s, r, render_plan_html(r, s)


def test_formatters_for_people() -> None:
    assert usd(1234567.8) == "$1,234,568"
    assert usd(-12.4) == "-$12"
    assert usd(3.2990, 2) == "$3.30"
    assert usd(None) == "–"
    assert ms(622.15) == "622 ms"
    assert ms(1000.0) == "1,000 ms"
    assert ms(29.129) == "29.1 ms"
    assert ms(None) == "–"


def test_recommendation_name_and_npv_appear(default_plan: PlanResult, default_page: str) -> None:
    rec = default_plan.recommendation
    assert esc(rec.option) in default_page
    # NPV as people read it: dollars, thousands separators, no cents.
    assert f"${round(rec.npv_usd):,}" in default_page
    assert f"${round(rec.tco_nominal_usd):,}" in default_page
    for reason in rec.reasons:
        assert esc(reason) in default_page


def test_plotly_js_inlined_exactly_once(default_page: str) -> None:
    bundle = get_plotlyjs()
    assert default_page.count(bundle) == 1
    assert default_page.count(bundle[:300]) == 1  # its banner is not repeated either
    # The page is the bundle plus well under a megabyte of charts and tables.
    assert len(bundle) < len(default_page) < len(bundle) + 1_500_000


def test_no_external_scripts_styles_or_fonts(default_page: str) -> None:
    page = default_page.replace(get_plotlyjs(), "")
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//", page, re.I)
    assert not re.search(r"<link\b[^>]*\bstylesheet", page, re.IGNORECASE)
    assert "@import" not in page
    assert "@font-face" not in page
    assert not EXTERNAL_ATTR.search(page)


def test_every_chart_div_present(hosted: tuple[ScenarioSpec, PlanResult, str]) -> None:
    _, _, page = hosted
    for div_id in ALL_CHART_IDS:
        assert page.count(f'id="{div_id}"') == 1, div_id
        assert re.search(r'Plotly\.newPlot\(\s*"' + div_id + '"', page), div_id
    # One script for plotly.js, one per chart, nothing else.
    assert page.count("<script") == 1 + len(ALL_CHART_IDS)


def test_default_page_has_the_charts_its_plan_has_data_for(
    default_plan: PlanResult, default_page: str
) -> None:
    always = ("chart-cumulative-tco", "chart-cost-breakdown", "chart-pareto")
    for div_id in always:
        assert f'id="{div_id}"' in default_page
    assert ('id="chart-break-even"' in default_page) == (default_plan.runner_up is not None)
    assert ('id="chart-sensitivity"' in default_page) == bool(default_plan.sensitivity)
    assert ('id="chart-latency-throughput"' in default_page) == bool(default_plan.latency_curve)


def test_pick_latency_with_interval_and_slo_verdict(
    hosted: tuple[ScenarioSpec, PlanResult, str],
) -> None:
    scenario, result, page = hosted
    check = result.recommendation.latency_check
    assert check is not None
    lo, hi = check.p_ttft_interval_ms
    assert ms(check.p_ttft_ms) in page
    assert f"interval {ms(lo)} – {ms(hi)}" in page
    lo, hi = check.p_tpot_interval_ms
    assert f"interval {ms(lo)} – {ms(hi)}" in page
    verdict = '<span class="ok">met</span>' if check.meets_slo else '<span class="bad">not met'
    assert verdict in page
    assert scenario.slo is not None
    assert f"target {ms(scenario.slo.ttft_ms)}" in page


def test_tables_list_options_rejections_findings_assumptions(
    hosted: tuple[ScenarioSpec, PlanResult, str],
) -> None:
    _, result, page = hosted
    for o in result.options:
        assert esc(o.name) in page
        assert usd(o.npv_usd) in page
    for r in result.rejected:
        assert esc(r.reason) in page
    pick = next(o for o in result.options if o.name == result.recommendation.option)
    assert pick.findings, "the default scenario has a sovereignty policy"
    for f in pick.findings:
        assert esc(f["reason"]) in page
        assert esc(f["source"]) in page
    for a in result.assumptions:
        assert esc(a["source"]) in page
        assert a["as_of"] in page
    for definition in result.metric_definitions.values():
        assert esc(definition) in page


def test_option_names_are_escaped(default_plan: PlanResult, scenario: ScenarioSpec) -> None:
    evil = 'x</script><script>alert("pwn")</script><b>&co'
    result = rename(default_plan, default_plan.recommendation.option, evil)
    assert result.recommendation.option == evil
    page = render_plan_html(result, scenario)
    assert "<script>alert" not in page
    assert "<b>&co" not in page
    # Autoescaped text in the tables and headings ('"' becomes &#34;).
    expected = "x&lt;/script&gt;&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;&lt;b&gt;&amp;co"
    assert expected in page
    # Only plotly.js and one script per chart: the name opened no script of its own.
    charts = sum(f'id="{i}"' in page for i in ALL_CHART_IDS)
    assert page.count("<script") == 1 + charts


def test_missing_analyses_leave_notes_not_broken_charts(
    default_plan: PlanResult, scenario: ScenarioSpec
) -> None:
    bare = default_plan.model_copy(
        update={"runner_up": None, "sensitivity": [], "monte_carlo": None, "latency_curve": []}
    )
    page = render_plan_html(bare, scenario)
    for div_id in ("chart-break-even", "chart-sensitivity", "chart-monte-carlo",
                   "chart-latency-throughput"):
        assert f'id="{div_id}"' not in page
    assert "There is no runner-up to compare." in page
    assert "The plan has no sensitivity analysis." in page
    assert "The plan has no Monte Carlo run." in page
    assert 'id="chart-cumulative-tco"' in page
