"""Calibration: stage regimes, parameter recovery, bad input, profiles and the CLI.

Synthetic measurements come from the step-time model (``inferplan.perf.step``) with
known efficiencies, through the closed form of one request at a time (concurrency 1
on an idle server): TTFT = the prefill step, TPOT = the mean decode step, output
tokens/s = osl / E2E. The fit goes through the simulator and the optimiser instead,
so the test checks that the fit finds the parameters back.

Tolerances: the fit adds a prior term w * ln(p / p_engine) per parameter (w = 0.02),
which moves the optimum away from the truth by about w^2 ln(p_engine / p) / s^2 in
ln p, where s is how much ln(metric) moves per unit of ln p. Each test states s.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import typer
from calibration_stages import one_at_a_time
from typer.testing import CliRunner

from inferplan.bench.results import (
    ErrorKind,
    JsonlWriter,
    Phase,
    RequestRecord,
    RunMetadata,
    write_json,
)
from inferplan.bench.summary import build_summary
from inferplan.cli import calibrate_cmd, perf_cmd, plan_cmd
from inferplan.deploy.deployment import resolve
from inferplan.errors import SpecError, UnknownIdError
from inferplan.perf.batch import BatchShape, SchedulerLimits
from inferplan.service.calibration import (
    PRIOR_WEIGHT,
    StageMeasurement,
    fit_efficiency,
    read_run,
    simulate_stage,
)
from inferplan.service.calibration_profiles import (
    calibrate,
    calibrated,
    efficiency_hook,
    efficiency_of,
    list_profiles,
    load_profile,
    save_profile,
)

CPU = ("smollm2-135m", "host-epyc-genoa-2vcpu", "llama-cpp-python", "q4_1")
GPU = ("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")


class _Constant:
    def step_time_s(self, shape: BatchShape) -> float:
        return 0.01


def test_closed_loop_stage_runs_as_the_bench_ran_it() -> None:
    # one request at a time (max_num_seqs 1), 2 clients, 4 requests of 10 in / 3 out, every
    # step 10 ms: A runs 0-30 ms (first token 10); B, sent at 0, starts at 30 -> TTFT 40 ms;
    # C (sent at 30) and D (sent at 60) each wait for the other client's request -> 40 ms.
    # mean TTFT (10 + 40 + 40 + 40) / 4 = 32.5 ms; TPOT 10 ms; 12 tokens / 120 ms = 100 tok/s
    lim = SchedulerLimits(max_num_seqs=1, max_num_batched_tokens=512, kv_capacity_tokens=10_000)
    m = StageMeasurement(Path("x"), 0, 4, 10, 3, 1.0, 1.0, 1.0, concurrency=2)
    p = simulate_stage(_Constant(), lim, m)
    assert p.ttft_s == pytest.approx(0.0325)
    assert p.tpot_s == pytest.approx(0.010)
    assert p.output_tokens_per_s == pytest.approx(100.0)


def test_closed_loop_stage_adds_the_mid_step_wait() -> None:
    # 4 clients, room for all 4, 12 requests of 10 in / 3 out, every step 10 ms: each wave
    # is one prefill step and two decode steps (30 ms), the next wave sent as it ends.
    # Simulated TTFT 10 ms; a real client's request lands mid-step and waits on average for
    # the rest of it, sum(d^2) / (2 sum(d)) = 10 / 2 = 5 ms over the measured steps -> 15 ms
    lim = SchedulerLimits(max_num_seqs=4, max_num_batched_tokens=512, kv_capacity_tokens=10_000)
    m = StageMeasurement(Path("x"), 0, 12, 10, 3, 1.0, 1.0, 1.0, concurrency=4)
    p = simulate_stage(_Constant(), lim, m)
    assert p.ttft_s == pytest.approx(0.015)
    assert p.tpot_s == pytest.approx(0.010)


def test_constant_rate_stage() -> None:
    # 10 req/s constant: arrivals 0, 100, 200, 300 ms, each done 30 ms later, no queueing;
    # window 0 -> 330 ms: 12 tokens / 0.33 s = 36.36 tok/s
    lim = SchedulerLimits(max_num_seqs=1, max_num_batched_tokens=512, kv_capacity_tokens=10_000)
    m = StageMeasurement(Path("x"), 0, 4, 10, 3, 1.0, 1.0, 1.0, rate_rps=10.0, arrival="constant")
    p = simulate_stage(_Constant(), lim, m)
    assert p.ttft_s == pytest.approx(0.010)
    assert p.output_tokens_per_s == pytest.approx(12 / 0.33)


def test_recovers_gpu_bandwidth_and_gemm_efficiency() -> None:
    # decode of 8B bf16 on H100 streams 16 GB per token (s ~ 0.5 for bandwidth in TPOT);
    # a 4096-token prefill is compute bound (s ~ 0.9 for GEMM efficiency in TTFT):
    # expected bias 0.02^2 * ln(0.80 / 0.6) / 0.5^2 < 0.1 %; allow 1 %
    d = resolve(*GPU)
    truth = {"bandwidth_efficiency": 0.6, "gemm_efficiency": 0.5}
    stages = [one_at_a_time(d, truth, 128, 256), one_at_a_time(d, truth, 4096, 4)]
    fit = fit_efficiency(d, stages, list(truth))
    for k, v in truth.items():
        assert fit.fitted[k] == pytest.approx(v, rel=0.01)
    assert fit.mean_abs_error(after=True) < 0.002 < 0.05 < fit.mean_abs_error(after=False)


def test_recovers_cpu_gemm_efficiency_and_ramp() -> None:
    # SmolLM2 Q4_1 on the 2-vCPU host, one request at a time, 32 in / 16 out. Both TTFT and
    # TPOT are compute bound: TTFT - TPOT fixes gemm_efficiency (s ~ 1), TPOT then fixes
    # gemm_half_tokens, s = its share of TPOT ~ 10.9 ms * 0.5 / 20.2 ms = 0.27:
    # bias 0.02^2 * ln(17.58 / 0.5) / 0.27^2 = 2 %; allow 6 % (gemm_efficiency 2 %)
    d = resolve(*CPU)
    truth = {"gemm_efficiency": 0.15, "gemm_half_tokens": 0.5}
    fit = fit_efficiency(d, [one_at_a_time(d, truth, 32, 16)], list(truth))
    assert fit.fitted["gemm_efficiency"] == pytest.approx(0.15, rel=0.02)
    assert fit.fitted["gemm_half_tokens"] == pytest.approx(0.5, rel=0.06)
    # before: the engine profile's GPU-like ramp makes decode 3x too slow on a CPU
    tpot = next(r for r in fit.rows if r.metric == "tpot_s")
    assert tpot.error_before is not None and tpot.error_before > 1.0
    assert tpot.error_after is not None and abs(tpot.error_after) < 0.01


def test_parameters_are_chosen_by_what_the_data_constrain() -> None:
    d = resolve(*GPU)
    decode_heavy = one_at_a_time(d, {}, 128, 512)  # TPOT: weight streaming
    prefill_heavy = one_at_a_time(d, {}, 8192, 2)  # TTFT: GEMMs
    assert next(iter(fit_efficiency(d, [decode_heavy]).fitted)) == "bandwidth_efficiency"
    assert next(iter(fit_efficiency(d, [prefill_heavy]).fitted)) == "gemm_efficiency"
    # measured = the engine profile's own prediction: nothing moves beyond the fit's noise
    fit = fit_efficiency(d, [decode_heavy])
    for k, v in fit.fitted.items():
        assert v == pytest.approx(fit.prior_values[k], rel=1e-3)
    assert PRIOR_WEIGHT == 0.02  # the tolerances above are worked out for it


def _write_run(
    folder: Path,
    ttft_s: float,
    tpot_s: float,
    isl: int = 32,
    osl: int = 16,
    n: int = 8,
    failed: bool = False,
    summary: bool = True,
) -> Path:
    """A bench run folder of ``n`` sequential requests with the given latencies."""
    folder.mkdir(parents=True)
    meta = RunMetadata(
        started_at="2026-01-01T00:00:00+00:00",
        url="http://127.0.0.1:1",
        endpoint="completions",
        model="/models/SmolLM2-135M-Instruct.Q4_1.gguf",
        engine="llama-cpp-python",
        config={"concurrency": [1], "profile": "synchronous", "arrival": "poisson"},
    )
    write_json(meta, folder / "run.json")
    e2e = ttft_s + (osl - 1) * tpot_s
    records = []
    for k in range(n):
        sent = k * e2e
        first = sent + ttft_s
        times = [first + j * tpot_s for j in range(osl)]
        records.append(
            RequestRecord(
                request_id=k,
                phase=Phase.MEASURE,
                sent_s=sent,
                first_token_s=None if failed else first,
                first_content_s=None if failed else first,
                last_token_s=None if failed else times[-1],
                end_s=None if failed else times[-1],
                token_times_s=[] if failed else times,
                input_tokens=isl,
                requested_output_tokens=osl,
                output_tokens=None if failed else osl,
                error_kind=ErrorKind.CONNECT if failed else None,
            )
        )
    writer = JsonlWriter(folder / "records.jsonl").open()
    for r in records:
        writer.write(r)
    writer.close()
    if summary:
        write_json(build_summary(meta, records), folder / "summary.json")
    return folder


def test_read_run_takes_the_stage_means(tmp_path: Path) -> None:
    run = _write_run(tmp_path / "r", 0.2, 0.015)
    _, stages, _ = read_run(run)
    (m,) = stages
    assert (m.requests, m.input_tokens, m.output_tokens, m.concurrency) == (8, 32, 16, 1)
    assert m.ttft_s == pytest.approx(0.2) and m.tpot_s == pytest.approx(0.015)
    # E2E = 0.2 + 15 * 0.015 = 0.425 s; 16 tokens per 0.425 s back to back = 37.65 tok/s
    assert m.output_tokens_per_s == pytest.approx(16 / 0.425)
    # a run killed before its summary: the summary is rebuilt from the records
    _, again, _ = read_run(_write_run(tmp_path / "killed", 0.2, 0.015, summary=False))
    assert again[0].ttft_s == pytest.approx(0.2)


def test_bad_input_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        read_run(tmp_path / "missing")
    assert e.value.field == "results" and "no such" in str(e.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError) as e:
        read_run(tmp_path / "empty")
    assert e.value.field == "results" and "not an inferplan bench run" in str(e.value)
    failed = _write_run(tmp_path / "failed", 0.2, 0.015, failed=True)
    with pytest.raises(SpecError) as e:
        read_run(failed)
    assert e.value.field == "results" and "no stage with a successful" in str(e.value)
    good = _write_run(tmp_path / "good", 0.2, 0.015)
    with pytest.raises(UnknownIdError) as u:
        calibrate([good], "no-such-gpu")
    assert u.value.field == "gpu"
    with pytest.raises(SpecError) as e:
        calibrate([good], CPU[1], parameters=["tp"])
    assert e.value.field == "parameters"
    with pytest.raises(SpecError) as e:
        calibrate([good], CPU[1], name="Bad/Name")
    assert e.value.field == "name"
    with pytest.raises(SpecError) as e:
        calibrate([], CPU[1])
    assert e.value.field == "results"


def test_profile_round_trip_and_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERPLAN_HOME", str(tmp_path / "home"))
    run = _write_run(tmp_path / "r", 0.23, 0.0145)
    fit, profile = calibrate([run], CPU[1], name="genoa")
    # engine, model and precision come from the run: llama-cpp-python, SmolLM2 ... .Q4_1.gguf
    assert (profile.engine, profile.model, profile.precision) == (CPU[2], CPU[0], "q4_1")
    assert profile.runs[0].stages[0].load == "concurrency 1"
    assert profile.error_after < 0.05 < profile.error_before
    path = save_profile(profile)
    assert path == tmp_path / "home" / "calibrations" / "genoa.yaml"
    with pytest.raises(SpecError) as e:
        save_profile(profile)
    assert e.value.field == "name" and "--force" in str(e.value)
    save_profile(profile, force=True)
    loaded = load_profile("genoa")
    assert loaded == profile and [p.name for p in list_profiles()] == ["genoa"]
    eff = efficiency_of(loaded)
    for k, v in profile.parameters.items():
        assert getattr(eff, k) == pytest.approx(v)
    engine = resolve(*CPU).engine.efficiency
    assert eff.attention_efficiency == engine.attention_efficiency  # untouched fields stay
    hook = efficiency_hook(loaded)
    assert hook(resolve(*CPU)) == eff
    assert hook(resolve("smollm2-135m", CPU[1], "llamacpp", "q4_1")) is None  # other engine
    assert pickle.loads(pickle.dumps(hook)) == hook  # process executors ship it
    assert calibrated(resolve(*CPU), loaded).efficiency == eff
    with pytest.raises(SpecError) as e:
        calibrated(resolve(*GPU), loaded)
    assert e.value.field == "calibration"
    with pytest.raises(UnknownIdError) as u:
        load_profile("genoaa")
    assert u.value.suggestions == ["genoa"]
    assert fit.efficiency == eff


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """inferplan (calibrate, perf, plan)."""

    for module in (calibrate_cmd, perf_cmd, plan_cmd):
        module.register(app)
    return app


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERPLAN_HOME", str(tmp_path / "home"))
    app, runner = _app(), CliRunner()
    run = _write_run(tmp_path / "r", 0.23, 0.0145)
    args = ["calibrate", str(run), "--gpu", CPU[1], "--name", "genoa"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["path"].endswith("genoa.yaml") and out["engine"] == "llama-cpp-python"
    assert {r["metric"] for r in out["comparison"]} == {"ttft_s", "tpot_s", "output_tokens_per_s"}
    res = runner.invoke(app, args)  # exists already
    assert res.exit_code == 2 and "--force" in res.output
    res = runner.invoke(app, [*args, "--force"])
    assert res.exit_code == 0 and "TPOT mean ms" in res.stdout and "saved" in res.stdout
    res = runner.invoke(app, ["calibrate", "list", "--json"])
    assert [p["name"] for p in json.loads(res.stdout)] == ["genoa"]
    res = runner.invoke(app, ["calibrate", "show", "genoa"])
    assert res.exit_code == 0 and "gemm_efficiency" in res.stdout
    perf = ["perf", CPU[0], "--gpu", CPU[1], "--engine", CPU[2], "--precision", CPU[3],
            "--isl", "32", "--osl", "16", "--concurrency", "1", "--json"]
    plain = json.loads(runner.invoke(app, perf).stdout)
    res = runner.invoke(app, [*perf, "--calibration", "genoa"])
    assert res.exit_code == 0, res.output
    cal = json.loads(res.stdout)
    # the run measured TPOT 14.5 ms; the engine profile predicts ~45 ms on this CPU
    assert cal["tpot_ms"]["mean"] == pytest.approx(14.5, rel=0.05)
    assert plain["tpot_ms"]["mean"] > 30 and "genoa" in cal["notes"][-1]
    for bad, field in (
        (["calibrate", str(tmp_path / "nope"), "--gpu", CPU[1]], "results:"),
        (["calibrate", str(run), "--gpu", "no-such-gpu"], "gpu:"),
        ([*perf, "--calibration", "nope"], "calibration:"),
        (["plan", "--calibration", "nope"], "calibration:"),
    ):
        res = runner.invoke(app, bad)
        assert res.exit_code == 2 and field in res.output, res.output
        assert "Traceback" not in res.output
