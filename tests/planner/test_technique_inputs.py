"""Scenario input for speculative decoding and disaggregated serving: opt-in, and a
wrong value is one line naming the field, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from inferplan.cli.main import app
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.scenario_io import parse_scenario
from inferplan.specs.plan import MTP_ACCEPTANCE_RATE, CandidatesSpec


def test_plain_decoding_on_colocated_replicas_is_the_default() -> None:
    c = CandidatesSpec()
    assert c.speculative == ["none"] and c.speculative_methods() == []
    assert c.disaggregated is False


def test_mtp_defaults_to_the_low_end_of_deepseek_v3s_published_acceptance() -> None:
    # DeepSeek-V3 report section 5.4.3: second-token acceptance 85-90 %; one MTP module
    c = CandidatesSpec(speculative=["none", "mtp"])
    assert c.acceptance("mtp") == MTP_ACCEPTANCE_RATE == 0.85
    assert c.tokens_drafted("mtp") == 1
    given = CandidatesSpec(
        speculative=["mtp"], acceptance_rate={"mtp": 0.9}, draft_tokens={"mtp": 2}
    )
    assert given.acceptance("mtp") == 0.9 and given.tokens_drafted("mtp") == 2


BAD: list[tuple[dict[str, Any], str]] = [
    ({"speculative": ["none", "eagle"]}, "candidates.speculative[1]"),
    ({"speculative": []}, "candidates.speculative: list at least one"),
    ({"speculative": ["mtp", "mtp"]}, "candidates.speculative: mtp listed twice"),
    ({"speculative": ["none", "draft_model"]}, "candidates.acceptance_rate.draft_model: required"),
    ({"speculative": ["ngram"]}, "candidates.acceptance_rate.ngram: required"),
    (
        {"speculative": ["mtp"], "acceptance_rate": {"mtp": 1.2}},
        "candidates.acceptance_rate.mtp",
    ),
    (
        {"speculative": ["none"], "acceptance_rate": {"mtp": 0.8}},
        "candidates.acceptance_rate.mtp: given for a method not in candidates.speculative",
    ),
    (
        {"speculative": ["mtp"], "draft_tokens": {"mtp": 0}},
        "candidates.draft_tokens.mtp",
    ),
    ({"draft_model": "llama-3.2-1b"}, "candidates.draft_model: given but"),
    ({"disaggregated": "sometimes"}, "candidates.disaggregated"),
]


@pytest.mark.parametrize(("cand", "fragment"), BAD)
def test_a_wrong_technique_setting_is_one_line_naming_the_field_exit_2(
    tmp_path: Path, cand: dict[str, Any], fragment: str
) -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw["candidates"] = {**raw["candidates"], **cand}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    res = CliRunner().invoke(app, ["plan", str(path)])
    err = res.stderr.strip()
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "\n" not in err and fragment in err, err


def test_an_unknown_draft_model_id_is_refused_naming_the_field(tmp_path: Path) -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw["candidates"] = {
        **raw["candidates"],
        "speculative": ["none", "draft_model"],
        "draft_model": "no-such-model",
        "acceptance_rate": {"draft_model": 0.7},
    }
    parse_scenario(raw)  # the schema holds; the catalog lookup refuses it
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    res = CliRunner().invoke(app, ["plan", str(path)])
    err = res.stderr.strip()
    assert res.exit_code == 2, res.output
    assert "\n" not in err and "candidates.draft_model" in err, err


def test_a_draft_model_no_candidate_can_use_is_refused_naming_the_field(tmp_path: Path) -> None:
    # Mistral 7B's 32,768-token vocabulary is not Llama 3.1's 128,256: it cannot draft for it
    raw = yaml.safe_load(default_scenario_text())
    raw["models"] = ["llama-3.1-8b"]
    raw["candidates"] = {
        **raw["candidates"],
        "speculative": ["none", "draft_model"],
        "draft_model": "mistral-7b",
        "acceptance_rate": {"draft_model": 0.7},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    res = CliRunner().invoke(app, ["plan", str(path)])
    err = res.stderr.strip()
    assert res.exit_code == 2, res.output
    assert "\n" not in err and "candidates.draft_model" in err and "tokenizer" in err, err
