"""Calibrate the step-time model's efficiency parameters from benchmark runs.

``inferplan calibrate`` reads the stages ``inferplan bench`` measured, predicts each
stage with the performance model in the regime it was measured in, fits two or
three physical parameters of :class:`~inferplan.specs.engine.EngineEfficiency`,
and keeps them as a named profile (:mod:`inferplan.service.calibration_profiles`).

**Regime of a stage.** A closed-loop stage of ``c`` workers and ``N`` measured
requests is simulated as the bench ran it: ``N`` requests from t = 0 by ``c``
clients (the bench's warm-up requests run before the stage), throughput over
first sent -> last finished, and every TTFT with the mid-step wait a real client's
request sees (:func:`~inferplan.perf.closed_loop.mid_step_wait_s`, the same as
``perf --concurrency`` and ``validate`` add). An open-loop stage is ``N`` arrivals of its process
(Poisson, gamma with CV = 1/sqrt(shape), constant), averaged over
:data:`RATE_SEEDS` seeds. Prompt and output lengths are the stage's measured
means, rounded. Trace stages are skipped.

**Fit.** Over the log of the chosen parameters ``p`` minimise

    sum over stages and metrics of log(predicted / measured)^2
    + w^2 * sum over p of log(p / p_engine)^2

for the metrics TTFT mean, TPOT mean and output tokens/s: a maximum a-posteriori
estimate with a log-normal prior of width 1/w centred on the engine profile
(Tikhonov regularisation; Tarantola, *Inverse Problem Theory*, SIAM 2005, ch. 3).
With w = :data:`PRIOR_WEIGHT` = 0.05 moving a parameter by a factor e costs as
much as a 5 % misfit of one metric, so the data decide wherever they constrain a
parameter and the prior only holds directions they leave free (two parameters
that act alike, such as ``step_overhead_s`` and a compute-bound
``gemm_half_tokens``). Solved by ``scipy.optimize.least_squares`` (trust-region
reflective, bounds :data:`BOUNDS`).

**Which parameters.** Unless named, the candidates :data:`CANDIDATES` are ordered
by column-pivoted QR of the sensitivity matrix d log(metric) / d log(parameter)
at the engine profile (subset selection, Golub & Van Loan, *Matrix Computations*,
4th ed., section 5.4.2): decode-dominated runs pick bandwidth and overhead,
prefill-heavy runs GEMM efficiency. The first :data:`MAX_FITTED` with a
sensitivity above :data:`MIN_SENSITIVITY`, and no more than the number of
measured values, are fitted. On a catalog CPU that gives its core count, whose step the
engine's CPU shares time, the candidates are those shares and the barrier time
(:data:`CPU_CANDIDATES`); a measured host record has no core count and keeps the generic ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.linalg import qr
from scipy.optimize import least_squares

from inferplan.bench.results import (
    METADATA_FILE,
    RECORDS_FILE,
    SUMMARY_FILE,
    RunMetadata,
    RunSummary,
    read_records,
    read_summary,
)
from inferplan.bench.summary import build_summary
from inferplan.deploy.deployment import Deployment, limits_of, memory_of, step_model_of
from inferplan.errors import BenchmarkError, InfeasibleError, SpecError
from inferplan.perf.batch import SchedulerLimits, StepTimeModel
from inferplan.perf.closed_loop import mid_step_wait_s
from inferplan.perf.metrics import summarize
from inferplan.perf.simulate import simulate
from inferplan.perf.workload import ConstantArrivals, GammaArrivals, PoissonArrivals
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.hardware import DeviceKind

METRICS = ("ttft_s", "tpot_s", "output_tokens_per_s")
CANDIDATES = (
    "gemm_efficiency",
    "gemm_half_tokens",
    "bandwidth_efficiency",
    "kv_bandwidth_efficiency",
    "attention_efficiency",
    "step_overhead_s",
)
CPU_CANDIDATES = (
    "cpu_gemm_efficiency",
    "cpu_bandwidth_efficiency",
    "cpu_sync_s_per_core",
    "attention_efficiency",
    "step_overhead_s",
)
"""On a catalog CPU that gives its core count, under an engine with CPU shares: those shares
and the barrier time replace the generic GEMM and bandwidth terms they override
(:mod:`inferplan.perf.step`)."""
BOUNDS: dict[str, tuple[float, float]] = {
    "gemm_efficiency": (1e-3, 1.0),
    "gemm_half_tokens": (1e-2, 4096.0),
    "gemm_half_width": (1e-2, 1e5),
    "bandwidth_efficiency": (1e-3, 1.0),
    "kv_bandwidth_efficiency": (1e-3, 1.0),
    "attention_efficiency": (1e-3, 1.0),
    "quantized_bandwidth_efficiency": (1e-3, 1.0),
    "cpu_gemm_efficiency": (1e-3, 1.0),
    "cpu_bandwidth_efficiency": (1e-3, 1.0),
    "cpu_sync_s_per_core": (1e-9, 1e-3),
    "step_overhead_s": (1e-6, 1.0),
    "layer_overhead_s": (1e-8, 0.1),
    "seq_overhead_s": (1e-8, 0.1),
}
"""Search range of each fittable parameter (fractions <= 1; seconds; tokens)."""
MAX_FITTED = 3
MIN_SENSITIVITY = 1e-3
PRIOR_WEIGHT = 0.02
RATE_SEEDS = 5
_MISS = 10.0  # log error standing for a metric the model cannot produce


@dataclass(frozen=True, slots=True)
class StageMeasurement:
    """What one bench stage measured (s, tokens/s), with the load that produced it."""

    run: Path
    stage: int
    requests: int
    input_tokens: int
    output_tokens: int
    ttft_s: float | None
    tpot_s: float | None
    output_tokens_per_s: float
    concurrency: int | None = None
    rate_rps: float | None = None
    arrival: str = "poisson"
    arrival_cv: float = 1.0

    @property
    def load(self) -> str:
        """The load in words, e.g. ``concurrency 2`` or ``poisson 1.5 req/s``."""
        if self.concurrency is not None:
            return f"concurrency {self.concurrency}"
        return f"{self.arrival} {self.rate_rps:g} req/s"

    def value(self, metric: str) -> float | None:
        v: float | None = getattr(self, metric)
        return v


@dataclass(frozen=True, slots=True)
class StagePrediction:
    """Model prediction of one stage: mean TTFT and TPOT (s), output tokens/s."""

    ttft_s: float | None
    tpot_s: float | None
    output_tokens_per_s: float

    def value(self, metric: str) -> float | None:
        v: float | None = getattr(self, metric)
        return v


def _load_summary(path: Path) -> RunSummary:
    if not path.is_dir():
        raise SpecError("results", f"{path}: no such benchmark run folder")
    try:
        if (path / SUMMARY_FILE).is_file():
            return read_summary(path / SUMMARY_FILE)
        if (path / RECORDS_FILE).is_file() and (path / METADATA_FILE).is_file():
            meta = RunMetadata.model_validate_json((path / METADATA_FILE).read_text("utf-8"))
            return build_summary(meta, read_records(path / RECORDS_FILE))
    except BenchmarkError as exc:
        raise SpecError("results", str(exc)) from None
    except ValueError:
        raise SpecError("results", f"{path / METADATA_FILE}: not an inferplan bench run") from None
    raise SpecError("results", f"{path}: not an inferplan bench run (no {SUMMARY_FILE})")


def read_run(path: Path) -> tuple[RunMetadata, list[StageMeasurement], list[str]]:
    """The measured stages of one ``inferplan bench`` run folder, and notes on skipped ones.

    A folder that is missing, not a run, or without any successful measured request
    raises :class:`SpecError` on ``results``.
    """
    summary = _load_summary(path)
    cfg = summary.metadata.config
    shape = float(cfg.get("gamma_shape") or 1.0)
    arrival = str(cfg.get("arrival") or "poisson")
    stages: list[StageMeasurement] = []
    notes: list[str] = []
    for s in summary.stages:
        ok = int(s.counts.get("ok", 0))
        where = f"{path} stage {s.stage}"
        if ok == 0:
            notes.append(f"{where}: no successful request, skipped")
            continue
        if s.profile == "trace" or (s.concurrency is None and s.rate_req_per_s is None):
            notes.append(f"{where}: {s.profile} stage (no fixed load), skipped")
            continue
        if s.concurrency is None and cfg.get("max_concurrency"):
            notes.append(f"{where}: --max-concurrency is not simulated (open loop assumed)")
        if s.client_health.client_limited:
            notes.append(f"{where}: the client fell behind ({'; '.join(s.client_health.reasons)})")
        stages.append(
            StageMeasurement(
                run=path,
                stage=s.stage,
                requests=ok,
                input_tokens=max(1, round(s.input_tokens_total / ok)),
                output_tokens=max(1, round(s.output_tokens_total / ok)),
                ttft_s=s.ttft_s.mean,
                tpot_s=s.tpot_s.mean,
                output_tokens_per_s=s.output_tokens_per_s,
                concurrency=s.concurrency,
                rate_rps=None if s.concurrency is not None else s.rate_req_per_s,
                arrival=arrival,
                arrival_cv=1.0 / math.sqrt(shape),
            )
        )
    if not stages:
        raise SpecError("results", f"{path}: no stage with a successful measured request")
    return summary.metadata, stages, notes


@dataclass(frozen=True, slots=True)
class _StageSim:
    """A stage ready to simulate: the scheduler limits do not depend on efficiencies."""

    m: StageMeasurement
    limits: SchedulerLimits


def _prepare(d: Deployment, m: StageMeasurement) -> _StageSim:
    mem = memory_of(d, m.input_tokens + m.output_tokens, m.concurrency or 1)
    if not mem.fits:
        raise InfeasibleError(f"{m.run} stage {m.stage}: does not fit: {mem.reason}")
    return _StageSim(m, limits_of(d, mem))


def simulate_stage(
    step: StepTimeModel, limits: SchedulerLimits, m: StageMeasurement
) -> StagePrediction:
    """Simulate stage ``m`` as the bench ran it (see module docstring)."""
    isl, osl = np.full(m.requests, m.input_tokens), np.full(m.requests, m.output_tokens)
    wait_s = 0.0
    if m.concurrency is not None:
        runs = [simulate(step, limits, isl, osl, concurrency=m.concurrency)]
        wait_s = mid_step_wait_s(runs[0], m.concurrency, 0)
    else:
        assert m.rate_rps is not None
        process: ConstantArrivals | GammaArrivals | PoissonArrivals
        if m.arrival == "constant":
            process = ConstantArrivals(rate_rps=m.rate_rps)
        elif m.arrival == "gamma":
            process = GammaArrivals(rate_rps=m.rate_rps, cv=m.arrival_cv)
        else:
            process = PoissonArrivals(rate_rps=m.rate_rps)
        runs = []
        for seed in range(RATE_SEEDS):
            arrivals = process.arrival_times_s(np.random.default_rng(seed), isl.size)
            runs.append(simulate(step, limits, isl, osl, arrivals_s=arrivals))
    stats = [summarize(r) for r in runs]
    ttft = [x.ttft_s.mean for x in stats if x.ttft_s.mean is not None]
    tpot = [x.tpot_s.mean for x in stats if x.tpot_s.mean is not None]
    return StagePrediction(
        ttft_s=float(np.mean(ttft)) + wait_s if ttft else None,
        tpot_s=float(np.mean(tpot)) if tpot else None,
        output_tokens_per_s=float(np.mean([x.output_tokens_per_s for x in stats])),
    )


def predict_stage(
    d: Deployment, m: StageMeasurement, efficiency: EngineEfficiency | None = None
) -> StagePrediction:
    """Predict stage ``m`` on ``d`` (with ``efficiency`` if given) in its measured regime."""
    dd = d if efficiency is None else replace(d, efficiency=efficiency)
    return simulate_stage(step_model_of(dd), _prepare(d, m).limits, m)


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One stage and metric: measured, predicted before and after the fit (s or tokens/s)."""

    run: str
    stage: int
    load: str
    input_tokens: int
    output_tokens: int
    metric: str
    measured: float
    before: float | None
    after: float | None

    @property
    def error_before(self) -> float | None:
        """(predicted - measured) / measured before the fit."""
        return None if self.before is None else self.before / self.measured - 1.0

    @property
    def error_after(self) -> float | None:
        return None if self.after is None else self.after / self.measured - 1.0


@dataclass(frozen=True)
class CalibrationFit:
    """Outcome of :func:`fit_efficiency`: the parameters, the resulting efficiencies, the
    per-stage comparison and notes."""

    prior: EngineEfficiency
    efficiency: EngineEfficiency
    fitted: dict[str, float]
    rows: list[ComparisonRow]
    notes: list[str]

    @property
    def prior_values(self) -> dict[str, float]:
        return {k: _value(self.prior, k) for k in self.fitted}

    def mean_abs_error(self, after: bool = True) -> float:
        """Mean of |predicted / measured - 1| over every row (a metric the model cannot
        produce counts as 1)."""
        errs = [r.error_after if after else r.error_before for r in self.rows]
        return float(np.mean([1.0 if e is None else abs(e) for e in errs]))


def _value(eff: EngineEfficiency, name: str) -> float:
    if name not in BOUNDS:
        raise SpecError("parameters", f"'{name}' cannot be fitted; allowed: {', '.join(BOUNDS)}")
    v = getattr(eff, name)
    if v is None and name == "kv_bandwidth_efficiency":
        v = eff.bandwidth_efficiency
    lo, hi = BOUNDS[name]
    return float(min(max(float(v), lo), hi))


def candidates_of(d: Deployment, eff: EngineEfficiency) -> tuple[str, ...]:
    """The parameters a fit may choose from for ``d`` under ``eff``: :data:`CPU_CANDIDATES`
    where the CPU terms time the step, :data:`CANDIDATES` otherwise."""
    a = d.accelerator
    cpu = a.kind is DeviceKind.CPU and a.cores is not None
    if cpu and eff.cpu_gemm_efficiency is not None and eff.cpu_bandwidth_efficiency is not None:
        return CPU_CANDIDATES
    return CANDIDATES


def apply_parameters(base: EngineEfficiency, values: dict[str, float]) -> EngineEfficiency:
    """``base`` with ``values`` replacing its fields (validated)."""
    return EngineEfficiency.model_validate({**base.model_dump(), **values})


def _log_errors(preds: list[StagePrediction], sims: list[_StageSim]) -> np.ndarray:
    out = []
    for p, s in zip(preds, sims, strict=True):
        for metric in METRICS:
            meas = s.m.value(metric)
            if meas is None or not meas > 0:
                continue
            v = p.value(metric)
            out.append(math.log(v / meas) if v is not None and v > 0 else _MISS)
    return np.array(out)


def choose_parameters(
    errors_of: Callable[[dict[str, float]], np.ndarray], start: dict[str, float], rows: int
) -> list[str]:
    """Parameters the data constrain, in column-pivoted QR order (see module docstring).

    ``errors_of(values)`` returns the log errors of every measured value with the
    given parameters changed; ``start`` holds the candidates' starting values.
    """
    names = list(start)
    base = errors_of({})
    step = 0.1  # in log space: a 10.5 % change, downwards where up would pass the bound

    def signed(n: str) -> float:
        return -step if start[n] * math.exp(step) > BOUNDS[n][1] else step

    cols = [
        (errors_of({n: start[n] * math.exp(signed(n))}) - base) / signed(n) for n in names
    ]
    jac = np.column_stack(cols)
    _, r, piv = qr(jac, mode="economic", pivoting=True)
    chosen = []
    for k in range(min(MAX_FITTED, rows, r.shape[0])):
        if abs(r[k, k]) >= MIN_SENSITIVITY:
            chosen.append(names[int(piv[k])])
    return chosen


def fit_efficiency(
    d: Deployment,
    stages: Sequence[StageMeasurement],
    parameters: Sequence[str] | None = None,
    prior_weight: float = PRIOR_WEIGHT,
) -> CalibrationFit:
    """Fit efficiency parameters of ``d`` to the measured ``stages`` (see module docstring).

    ``parameters`` names those to fit (default: chosen from the data). The prior is
    ``d.efficiency`` or the engine profile's.
    """
    if not stages:
        raise SpecError("results", "no measured stage to calibrate on")
    prior = d.efficiency or d.engine.efficiency
    sims = [_prepare(d, m) for m in stages]
    n_rows = len(_log_errors([StagePrediction(1.0, 1.0, 1.0)] * len(sims), sims))
    if n_rows == 0:
        raise SpecError("results", "the runs hold no positive TTFT, TPOT or throughput")

    def predict_all(eff: EngineEfficiency) -> list[StagePrediction]:
        step = step_model_of(replace(d, efficiency=eff))
        return [simulate_stage(step, s.limits, s.m) for s in sims]

    def errors_of(values: dict[str, float]) -> np.ndarray:
        return _log_errors(predict_all(apply_parameters(prior, values)), sims)

    if parameters:
        names = list(dict.fromkeys(parameters))
        for n in names:
            _value(prior, n)
    else:
        start = {n: _value(prior, n) for n in candidates_of(d, prior)}
        names = choose_parameters(errors_of, start, n_rows)
    notes: list[str] = []
    before = predict_all(prior)
    fitted: dict[str, float] = {}
    if names:
        lo = np.log([BOUNDS[n][0] for n in names])
        hi = np.log([BOUNDS[n][1] for n in names])
        x0 = np.clip(np.log([_value(prior, n) for n in names]), lo + 1e-9, hi - 1e-9)

        def residuals(x: np.ndarray) -> np.ndarray:
            data = errors_of(dict(zip(names, np.exp(x).tolist(), strict=True)))
            return np.concatenate([data, prior_weight * (x - x0)])

        sol = least_squares(residuals, x0, bounds=(lo, hi), method="trf", diff_step=1e-4)
        fitted = dict(zip(names, np.exp(sol.x).tolist(), strict=True))
        for n, x, a, b in zip(names, sol.x, lo, hi, strict=True):
            if min(x - a, b - x) < 1e-3:
                notes.append(f"{n} ended at its bound {math.exp(x):.4g}: the model may lack a term")
    else:
        notes.append("no parameter changes any measured metric; nothing fitted")
    eff = apply_parameters(prior, fitted)
    after = predict_all(eff)
    rows = []
    for s, b, a in zip(sims, before, after, strict=True):
        for metric in METRICS:
            meas = s.m.value(metric)
            if meas is None or not meas > 0:
                continue
            rows.append(
                ComparisonRow(
                    str(s.m.run), s.m.stage, s.m.load, s.m.input_tokens, s.m.output_tokens,
                    metric, meas, b.value(metric), a.value(metric),
                )
            )
    return CalibrationFit(prior, eff, fitted, rows, notes)
