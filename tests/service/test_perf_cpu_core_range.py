"""``predict`` says when a CPU has more cores than the llama.cpp CPU parameters were
fitted on (8-24 cores), and how much of the token is the extrapolated barrier term."""

from __future__ import annotations

from dataclasses import replace

from inferplan.deploy.deployment import resolve
from inferplan.perf.step import CPU_FIT_CORES
from inferplan.service.perf import predict


def _notes(gpu: str, cores: int | None = None) -> list[str]:
    d = resolve("llama-3.1-8b", gpu, "llamacpp", "q4_k_m")
    if cores is not None:
        d = replace(d, accelerator=d.accelerator.model_copy(update={"cores": cores}))
    return predict(d, 512, 128, concurrency=1).notes


def test_the_fitted_range_is_the_two_intel_desktop_cpus() -> None:
    assert CPU_FIT_CORES == (8, 24)  # Core i9-9900, Core i9-14900K (validation/cpu_cases.csv)


def test_a_128_core_xeon_gets_the_extrapolation_note_with_the_barrier_share() -> None:
    notes = [n for n in _notes("xeon-6980p") if "fitted on 8-24-core" in n]
    assert len(notes) == 1
    # 6.5 us per core and layer x 128 cores x 32 layers = 26.6 ms per token
    assert "on 128 cores" in notes[0] and "26.6 ms of this" in notes[0]
    assert "17-18% slow" in notes[0]


def test_a_16_core_cpu_gets_no_extrapolation_note() -> None:
    notes = _notes("core-i9-14900k-ddr5-6400", cores=16)
    assert not any("fitted on" in n for n in notes)


def test_a_discrete_gpu_gets_no_extrapolation_note() -> None:
    assert not any("fitted on" in n for n in _notes("h100-sxm-80gb"))
