"""``inferplan tco``: tables, JSON and one-line errors (exit code 2)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from inferplan.cli.tco_cmd import register

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tco"))
from tco_fixtures import API, CLOUD, ON_PREM, doc_yaml, make_raw

runner = CliRunner()


@pytest.fixture
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.callback()
    def _root() -> None:
        """test root so that 'tco' stays a sub-command"""

    return a


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(make_raw([ON_PREM, CLOUD, API])), encoding="utf-8")
    return p


def test_json_has_the_promised_fields(app: typer.Typer, scenario: Path) -> None:
    res = runner.invoke(app, ["tco", str(scenario), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    names = [o["name"] for o in data["options"]]
    assert names == ["own", "cloud", "api"]
    for o in data["options"]:
        for key in (
            "tco_nominal_usd",
            "npv_usd",
            "usd_per_million_tokens",
            "monthly_cash_flows_usd",
            "breakdown_usd",
            "break_even_month",
        ):
            assert key in o
        assert len(o["monthly_cash_flows_usd"]) == 25
        assert set(o["break_even_month"]) == set(names) - {o["name"]}
    own = data["options"][0]
    # the worked example without installation: 400,000 + 24 x 10,779.375 - 200,000
    assert own["tco_nominal_usd"] == pytest.approx(458_705.0)
    # 400,000 / (78,840 - 10,779.375) = 5.88 -> month 6
    assert own["break_even_month"]["api"] == 6


def test_tables(app: typer.Typer, scenario: Path) -> None:
    res = runner.invoke(app, ["tco", str(scenario)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for text in (
        "TCO over 24 months",
        "Cost breakdown",
        "Cash flows",
        "Break-even month",
        "458,705",
    ):
        assert text in res.stdout


def test_sensitivity_json(app: typer.Typer, scenario: Path) -> None:
    res = runner.invoke(app, ["tco", str(scenario), "--json", "--sensitivity", "--draws", "20"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["monte_carlo"]["draws"] == 20
    assert data["tornado"][0]["swing_usd"] >= data["tornado"][-1]["swing_usd"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "file not found"),
        ("name: [oops\n", "malformed YAML"),
        ("MUTATE", "options[0].capex.gpu_price_usd"),
    ],
)
def test_errors_are_one_line_exit_2(
    app: typer.Typer, tmp_path: Path, content: str | None, needle: str
) -> None:
    p = tmp_path / "bad.yaml"
    if content == "MUTATE":
        raw = make_raw([ON_PREM])
        raw["options"][0]["capex"]["gpu_price_usd"] = -100
        p.write_text(yaml.safe_dump(raw), encoding="utf-8")
    elif content is not None:
        p.write_text(content, encoding="utf-8")
    res = runner.invoke(app, ["tco", str(p)])
    assert res.exit_code == 2
    out = res.output.strip()
    assert needle in out
    assert "Traceback" not in out and len(out.splitlines()) == 1


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: r["options"][0]["capex"].update(server_price_usd=".inf"), "server_price_usd"),
        (lambda r: r["workload"].update(requests_per_day=1e300), "workload.requests_per_day"),
        (
            lambda r: r.update(price_overrides={"support-share": {"value": 50}}),
            "price_overrides.support-share.value",
        ),
        (lambda r: (r.pop("options"), r.update(models=["llama-3.1-8b"])), "inferplan plan"),
    ],
)
def test_absurd_money_and_missing_options_exit_2(
    app: typer.Typer, tmp_path: Path, mutate, needle: str
) -> None:
    raw = make_raw([dict(ON_PREM, support_share_per_year=None), CLOUD, API])
    mutate(raw)
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(raw), encoding="utf-8")
    res = runner.invoke(app, ["tco", str(p), "--json"])
    assert res.exit_code == 2, res.output
    out = res.output.strip()
    assert needle in out
    assert "Traceback" not in out and len(out.splitlines()) == 1
    assert "NaN" not in out and "Infinity" not in out


def _doc_scenario(tmp_path: Path, doc: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(doc_yaml(doc), encoding="utf-8")
    return p


def test_json_carries_after_tax_irr_payback_and_currency(app: typer.Typer, tmp_path: Path) -> None:
    p = _doc_scenario(tmp_path, "tco-finance-worked-example.md")
    res = runner.invoke(app, ["tco", str(p), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["tax_rate"] == 0.25 and data["baseline"] == "cloud"
    assert data["currency"] == "EUR" and data["usd_per_currency_unit"] == 1.0763
    own = data["options"][0]
    # hand calculations in docs/tco-finance-worked-example.md
    assert round(own["after_tax_npv_usd"], 2) == 373_981.80
    assert own["irr_vs_baseline"] == pytest.approx(0.1564, abs=5e-5)
    assert own["payback_month_vs_baseline"] == 24
    assert round(own["in_currency"]["npv"], 2) == 445_339.76
    tables = runner.invoke(app, ["tco", str(p)], env={"COLUMNS": "220"})
    assert tables.exit_code == 0, tables.output
    for text in ("after-tax NPV (25%)", "NPV EUR", "Against the baseline 'cloud'", "15.64%"):
        assert text in tables.stdout


def test_json_carries_the_new_cost_lines(app: typer.Typer, tmp_path: Path) -> None:
    p = _doc_scenario(tmp_path, "tco-costs-worked-example.md")
    res = runner.invoke(app, ["tco", str(p), "--json"])
    assert res.exit_code == 0, res.output
    own = json.loads(res.stdout)["options"][0]
    for line in ("facility_rent", "insurance", "decommissioning", "staff", "bridge.api"):
        assert line in own["breakdown_usd"]
    assert round(own["tco_nominal_usd"], 2) == 1_325_318.64
    assert own["details"]["purchases"][1] == {"month": 10, "servers": 2, "spares": 1}


def test_draws_above_the_one_cap_are_refused_in_one_line(
    app: typer.Typer, scenario: Path
) -> None:
    from inferplan.tco.analysis import MAX_DRAWS

    res = runner.invoke(
        app, ["tco", str(scenario), "--sensitivity", "--draws", str(MAX_DRAWS + 1)]
    )
    assert res.exit_code == 2
    assert "--draws" in res.output and "Traceback" not in res.output
