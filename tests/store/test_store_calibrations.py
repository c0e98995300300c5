"""Profiles kept as files (command line) and in the database (service) apply alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from inferplan.deploy.deployment import resolve
from inferplan.errors import SpecError
from inferplan.service.calibration_db import DatabaseCalibrationStore
from inferplan.service.calibration_profiles import (
    CalibrationProfile,
    FileCalibrationStore,
    save_profile,
)
from inferplan.service.calibration_store import (
    CalibrationStore,
    apply_calibration,
    calibration_hook,
)
from inferplan.store import records
from inferplan.store.errors import NotFoundError

GPU = ("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
PARAMS = {"step_overhead_s": 0.02, "bandwidth_efficiency": 0.5}


def _file_store(home: Path, monkeypatch: pytest.MonkeyPatch) -> FileCalibrationStore:
    monkeypatch.setenv("INFERPLAN_HOME", str(home))
    save_profile(CalibrationProfile(
        name="slow", accelerator=GPU[1], engine=GPU[2], model=GPU[0], precision=GPU[3],
        kv_precision=GPU[3], prior={},
        parameters=PARAMS, runs=[], comparison=[], error_before=1.0, error_after=0.1,
        as_of=dt.date(2026, 1, 1)))
    return FileCalibrationStore()


def test_both_backends_apply_a_profile_the_same_way(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records.create_calibration(store, "slow", GPU[2], GPU[1], PARAMS, "")
    backends: list[CalibrationStore] = [
        _file_store(tmp_path / "home", monkeypatch), DatabaseCalibrationStore(store)
    ]
    d = resolve(*GPU)
    applied = [apply_calibration(d, b.get("slow")).efficiency for b in backends]
    assert applied[0] == applied[1]
    assert applied[0].step_overhead_s == 0.02 and applied[0].bandwidth_efficiency == 0.5
    # fields the profile does not fit keep the engine profile's values
    assert applied[0].attention_efficiency == d.engine.efficiency.attention_efficiency
    hooks = [calibration_hook(b.get("slow")) for b in backends]
    assert hooks[0] == hooks[1] and hooks[0](d) == applied[0]
    assert hooks[0](resolve("llama-3.1-8b", "h100-sxm-80gb", "sglang", "bf16")) is None


def test_a_profile_of_other_hardware_is_refused(store: Any) -> None:
    records.create_calibration(store, "slow", GPU[2], GPU[1], PARAMS, "")
    cal = DatabaseCalibrationStore(store).get("slow")
    with pytest.raises(SpecError) as e:
        apply_calibration(resolve("llama-3.1-8b", "a100-sxm-80gb", "vllm", "bf16"), cal)
    assert e.value.field == "calibration"
    with pytest.raises(NotFoundError):
        DatabaseCalibrationStore(store).get("fast")
