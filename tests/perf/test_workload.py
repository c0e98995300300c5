"""Tests of request-length distributions and arrival processes."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from inferplan.errors import SpecError
from inferplan.perf.workload import (
    ARRIVAL_KINDS,
    LENGTH_KINDS,
    ArrivalSpec,
    ConstantArrivals,
    EmpiricalLength,
    FixedLength,
    GammaArrivals,
    LengthSpec,
    LognormalLength,
    NormalLength,
    PoissonArrivals,
    TraceArrivals,
    UniformLength,
    WorkloadSpec,
    draw_arrivals,
    draw_requests,
    residual_step_wait_s,
)

N = 200_000


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    ("spec", "expected_mean"),
    [
        (FixedLength(value=128), 128.0),
        (UniformLength(min=10, max=30), 20.0),  # (10 + 30) / 2
        (NormalLength(mean=1000, std=100), 1000.0),  # clip at 1 is 10 std away
        (LognormalLength(mean=1000, std=600), 1000.0),
        (LognormalLength(mean=250, sigma=0.5), 250.0),
        # (100 * 1 + 300 * 3) / 4 = 250
        (EmpiricalLength(values=(100, 300), weights=(1, 3)), 250.0),
    ],
)
def test_sample_mean_matches_spec_mean(spec: LengthSpec, expected_mean: float) -> None:
    x = spec.sample(rng(), N)
    assert x.dtype == np.int64 and x.shape == (N,) and x.min() >= 1
    assert spec.mean == pytest.approx(expected_mean)
    assert x.mean() == pytest.approx(expected_mean, rel=0.01)


def test_lognormal_std_and_clipping() -> None:
    # sigma^2 = ln(1 + (600/1000)^2) = ln 1.36 -> sigma = 0.5545
    spec = LognormalLength(mean=1000, std=600)
    assert spec.shape_sigma == pytest.approx(0.5545, abs=1e-4)
    assert spec.sample(rng(), N).std() == pytest.approx(600, rel=0.03)
    clipped = LognormalLength(mean=1000, std=600, min=200, max=1500).sample(rng(), N)
    assert clipped.min() == 200 and clipped.max() == 1500


def test_uniform_is_inclusive_and_normal_clips() -> None:
    x = UniformLength(min=1, max=3).sample(rng(), 10_000)
    assert set(np.unique(x).tolist()) == {1, 2, 3}
    y = NormalLength(mean=5, std=50, min=1, max=20).sample(rng(), 10_000)
    assert y.min() == 1 and y.max() == 20


def test_length_spec_validation() -> None:
    with pytest.raises(ValidationError):
        UniformLength(min=5, max=4)
    with pytest.raises(ValidationError):
        LognormalLength(mean=100, std=10, sigma=0.5)  # both shapes
    with pytest.raises(ValidationError):
        LognormalLength(mean=100)  # neither
    with pytest.raises(ValidationError):
        EmpiricalLength(values=(1, 2), weights=(1.0,))
    with pytest.raises(ValidationError):
        FixedLength(value=0)
    with pytest.raises(ValidationError):
        FixedLength(value=3, extra=1)  # type: ignore[call-arg]


def interarrival_cv(times: np.ndarray) -> float:
    gaps = np.diff(times)
    return float(gaps.std() / gaps.mean())


def test_poisson_rate_and_cv() -> None:
    # exponential gaps: mean 1/rate = 0.1 s, CV 1
    t = PoissonArrivals(rate_rps=10).arrival_times_s(rng(), N)
    assert t[0] == 0.0 and np.all(np.diff(t) >= 0)
    assert np.diff(t).mean() == pytest.approx(0.1, rel=0.01)
    assert interarrival_cv(t) == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("cv", [1.0, 3.0, 0.5])
def test_gamma_arrivals_have_the_requested_cv(cv: float) -> None:
    # shape k = 1/cv^2: cv 1 -> exponential (Poisson), cv 3 -> k = 1/9 (bursty)
    t = GammaArrivals(rate_rps=5, cv=cv).arrival_times_s(rng(1), N)
    assert np.diff(t).mean() == pytest.approx(0.2, rel=0.02)
    assert interarrival_cv(t) == pytest.approx(cv, rel=0.05)


def test_constant_and_trace_arrivals() -> None:
    assert ConstantArrivals(rate_rps=4).arrival_times_s(rng(), 3).tolist() == [0.0, 0.25, 0.5]
    trace = TraceArrivals(times_s=(0.0, 0.5, 2.0))
    assert trace.arrival_times_s(rng(), 2).tolist() == [0.0, 0.5]
    with pytest.raises(SpecError):
        trace.arrival_times_s(rng(), 4)
    with pytest.raises(ValidationError):
        TraceArrivals(times_s=(1.0, 0.5))


def test_registries_and_yaml_like_input() -> None:
    for kind, cls in LENGTH_KINDS.items():
        assert cls.model_fields["kind"].default == kind
    for kind, cls in ARRIVAL_KINDS.items():
        assert cls.model_fields["kind"].default == kind
    spec = WorkloadSpec.model_validate(
        {
            "isl": {"kind": "lognormal", "mean": 1000, "std": 600},
            "osl": {"kind": "empirical", "values": [10, 20]},
            "arrival": {"kind": "trace", "arrival_times_s": [0, 1, 2]},
            "seed": 3,
        }
    )
    assert isinstance(spec.isl, LognormalLength) and isinstance(spec.arrival, TraceArrivals)
    gamma = TypeAdapter(ArrivalSpec).validate_python({"kind": "gamma", "rate_rps": 1, "cv": 2})
    assert isinstance(gamma, GammaArrivals) and gamma.cv == 2
    with pytest.raises(ValidationError):
        TypeAdapter(LengthSpec).validate_python({"kind": "zipf", "a": 2})


def test_same_seed_same_workload() -> None:
    spec = WorkloadSpec(
        isl=LognormalLength(mean=500, std=200),
        osl=UniformLength(min=1, max=500),
        arrival=PoissonArrivals(rate_rps=3),
        seed=11,
    )
    a_isl, a_osl = draw_requests(spec, 1000)
    b_isl, b_osl = draw_requests(spec, 1000)
    assert np.array_equal(a_isl, b_isl) and np.array_equal(a_osl, b_osl)
    c_isl, _ = draw_requests(spec.model_copy(update={"seed": 12}), 1000)
    assert not np.array_equal(a_isl, c_isl)
    assert np.array_equal(draw_arrivals(spec, 50), draw_arrivals(spec, 50))
    with pytest.raises(SpecError):
        draw_arrivals(spec.model_copy(update={"arrival": None}), 5)


def test_residual_step_wait_is_length_biased() -> None:
    # equal steps of d: an instant falls half-way through one on average, d / 2
    assert residual_step_wait_s(np.full(10, 0.02)) == pytest.approx(0.01)
    # one 0.4 s prefill step and twenty 20 ms decode steps (0.8 s in all): half the time is
    # in the prefill step, where the wait averages 0.2 s; the other half waits 10 ms:
    # (0.4^2 + 20 x 0.02^2) / (2 x 0.8) = 0.168 / 1.6 = 0.105 s
    steps = np.concatenate([[0.4], np.full(20, 0.02)])
    assert residual_step_wait_s(steps) == pytest.approx(0.105)
    # length-biased: well above half the mean step (0.8 / 21 / 2 = 0.019 s)
    assert residual_step_wait_s(steps) > 5 * steps.mean() / 2
    assert residual_step_wait_s(np.array([])) == 0.0
