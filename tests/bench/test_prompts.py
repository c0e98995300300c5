"""Synthetic prompts, length distributions, calibration and traces."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inferplan.bench.prompts import (
    VOCABULARY,
    LengthDist,
    PromptCalibration,
    PromptFactory,
    fit_prompt_calibration,
    load_trace,
)
from inferplan.errors import SpecError


@pytest.mark.parametrize(
    "text", ["0", "-3", "x", "uniform:5", "uniform:9,3", "beta:1,2", "normal:-1,2"]
)
def test_bad_lengths_name_the_field_and_the_forms(text: str) -> None:
    with pytest.raises(SpecError) as err:
        LengthDist.parse("isl", text)
    assert err.value.field == "isl" and "uniform:LO,HI" in err.value.message


def test_length_samples() -> None:
    rng = random.Random(1)
    assert LengthDist.parse("osl", "64").sample(rng) == 64
    uni = [LengthDist.parse("osl", "uniform:10,20").sample(rng) for _ in range(500)]
    assert min(uni) >= 10 and max(uni) <= 20 and len(set(uni)) == 11
    normal = [LengthDist.parse("osl", "normal:100,10").sample(rng) for _ in range(4000)]
    assert sum(normal) / len(normal) == pytest.approx(100, abs=1.5)  # sd of mean: 10/63 = 0.16
    logn = [LengthDist.parse("osl", "lognormal:100,50").sample(rng) for _ in range(4000)]
    assert sum(logn) / len(logn) == pytest.approx(100, abs=5)  # sd of mean: 50/63 = 0.8


def test_calibration_fit_by_hand() -> None:
    # 10 words -> 40 tokens, 20 words -> 50 tokens: slope 1 token/word, overhead 30
    cal = fit_prompt_calibration([(10, 40), (20, 50)])
    assert cal.tokens_per_word == pytest.approx(1.0) and cal.overhead_tokens == pytest.approx(30)
    assert cal.words_for(128) == 98 and cal.estimate_tokens(98) == 128
    # one word count only: a ratio, 26 tokens / 20 words = 1.3
    assert fit_prompt_calibration([(20, 26)]).tokens_per_word == pytest.approx(1.3)
    assert PromptCalibration(overhead_tokens=50).words_for(10) == 1


def test_prompts_are_reproducible_and_differ_from_the_first_words() -> None:
    f = PromptFactory(LengthDist.parse("isl", "64"), LengthDist.parse("osl", "8"), seed=3)
    a, b = f.make(1), f.make(2)
    assert f.make(1) == a and a.prompt_words == 64 and a.max_tokens == 8
    assert all(w in VOCABULARY for w in a.prompt.split())
    # a prefix cache matches 16-token blocks: the first 16 words must not coincide
    assert a.prompt.split()[:16] != b.prompt.split()[:16]


def test_shared_prefix_is_common_and_the_rest_is_not() -> None:
    f = PromptFactory(
        LengthDist.parse("isl", "64"), LengthDist.parse("osl", "8"), shared_prefix_tokens=32
    )
    a, b = f.make(1).prompt.split(), f.make(2).prompt.split()
    assert a[:32] == b[:32] and a[32:48] != b[32:48] and len(a) == 64


def test_trace_files(tmp_path: Path) -> None:
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(
        '{"timestamp_s": 5, "input_tokens": 3, "output_tokens": 2}\n'
        '{"timestamp_s": 2.5, "input_tokens": 9, "output_tokens": 4}\n'
    )
    entries = load_trace(jsonl)
    assert [e.timestamp_s for e in entries] == [0.0, 2.5] and entries[0].input_tokens == 9
    csv = tmp_path / "t.csv"
    csv.write_text("timestamp_s,input_tokens,output_tokens\n0,1,1\n1,2,2\n")
    assert len(load_trace(csv)) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": 1}\n')
    with pytest.raises(SpecError, match="timestamp_s"):
        load_trace(bad)
    with pytest.raises(SpecError, match="cannot read"):
        load_trace(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"timestamp_s": 0, "input_tokens": 3, "output_tokens": 4}\n'.encode("utf-16"),
         "UTF-16 text"),
        (b"\x00\x01\x02\x03", r"binary \(NUL bytes\)"),
        (b'{"timestamp_s": NaN, "input_tokens": 3, "output_tokens": 4}\n', "not a finite"),
        (b'{"timestamp_s": 1e999, "input_tokens": 3, "output_tokens": 4}\n', "not a finite"),
    ],
)
def test_bad_trace_files_are_one_line(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(content)
    with pytest.raises(SpecError, match=fragment) as exc:
        load_trace(path)
    assert "\n" not in str(exc.value)
