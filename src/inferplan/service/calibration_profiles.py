"""Calibration profiles: fitted efficiencies kept by name for ``perf`` and ``plan``.

:func:`calibrate` is the ``inferplan calibrate`` use case: read bench runs, resolve
the deployment they measured, fit (:func:`inferplan.service.calibration.fit_efficiency`)
and describe the result as a :class:`CalibrationProfile`. Profiles are YAML files
``<home>/calibrations/<name>.yaml``, where ``<home>`` is ``$INFERPLAN_HOME`` when set,
else ``platformdirs.user_data_dir("inferplan")``. A profile stores only the fitted
parameters; :class:`FileCalibrationStore` is the file backend of the one store
interface (:mod:`inferplan.service.calibration_store`), whose functions apply a
profile whatever its backend (:func:`calibrated` and :func:`efficiency_hook` call them).

Example::

    >>> p = load_profile("host-epyc-genoa-2vcpu-llama-cpp-python")  # doctest: +SKIP
    >>> d = resolve("smollm2-135m", p.accelerator, p.engine, "q4_1")  # doctest: +SKIP
    >>> d = calibrated(d, p)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import platformdirs
import yaml
from pydantic import Field, ValidationError

from inferplan.catalog import load_engines, load_models
from inferplan.catalog.loader import format_validation_error
from inferplan.deploy.deployment import Deployment, resolve
from inferplan.errors import SpecError, UnknownIdError
from inferplan.service.calibration import CalibrationFit, fit_efficiency, read_run
from inferplan.service.calibration_store import (
    CalibrationHook,
    StoredCalibration,
    apply_calibration,
    calibration_hook,
)
from inferplan.specs.base import FrozenSpec
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.precision import PRECISIONS

ENV_HOME = "INFERPLAN_HOME"
PROFILE_DIR = "calibrations"
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class StageRef(FrozenSpec):
    """A measured stage a profile was fitted on (tokens are the stage's means)."""

    stage: int
    load: str
    input_tokens: int
    output_tokens: int
    requests: int


class RunRef(FrozenSpec):
    """A bench run a profile was fitted on."""

    path: str
    started_at: str
    model: str
    engine: str
    stages: list[StageRef]


class ComparisonEntry(FrozenSpec):
    """Measured vs predicted before/after the fit (s for latencies, tokens/s)."""

    run: str
    stage: int
    load: str
    metric: str
    measured: float
    before: float | None
    after: float | None
    error_before: float | None
    error_after: float | None


class CalibrationProfile(FrozenSpec):
    """A named fit of efficiency parameters for one accelerator and engine."""

    name: str = Field(pattern=NAME_PATTERN)
    engine: str
    accelerator: str
    model: str
    precision: str
    kv_precision: str
    parameters: dict[str, float] = Field(description="fitted values (EngineEfficiency fields)")
    prior: dict[str, float] = Field(description="the engine profile's values before the fit")
    runs: list[RunRef]
    comparison: list[ComparisonEntry]
    error_before: float = Field(description="mean |predicted / measured - 1| before the fit")
    error_after: float = Field(description="the same after the fit")
    notes: list[str] = Field(default_factory=list)
    source: str = "inferplan calibrate"
    as_of: dt.date


def calibrations_dir() -> Path:
    """Folder of the profiles (not created here)."""
    home = os.environ.get(ENV_HOME)
    root = Path(home) if home else Path(platformdirs.user_data_dir("inferplan"))
    return root / PROFILE_DIR


def profile_path(name: str) -> Path:
    """Path of profile ``name``; names are lowercase letters, digits, '.', '_' and '-'."""
    if not re.match(NAME_PATTERN, name or ""):
        raise SpecError(
            "name", f"'{name}' is not a profile name; allowed: lowercase letters, digits, . _ -"
        )
    return calibrations_dir() / f"{name}.yaml"


def save_profile(profile: CalibrationProfile, force: bool = False) -> Path:
    """Write ``profile``; an existing one is replaced only with ``force``."""
    path = profile_path(profile.name)
    if path.exists() and not force:
        raise SpecError("name", f"calibration '{profile.name}' exists ({path}); use --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )
    tmp.replace(path)
    return path


def _read(path: Path) -> CalibrationProfile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return CalibrationProfile.model_validate(raw)
    except (OSError, yaml.YAMLError):
        raise SpecError("calibration", f"{path}: cannot read a calibration profile") from None
    except ValidationError as exc:
        raise SpecError("calibration", f"{path}: {format_validation_error(exc)}") from None


def list_profiles() -> list[CalibrationProfile]:
    """Every saved profile, by name."""
    folder = calibrations_dir()
    return [_read(p) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []


def load_profile(name: str) -> CalibrationProfile:
    """The saved profile ``name``; unknown names raise with the closest ones."""
    path = profile_path(name)
    if not path.is_file():
        names = [p.stem for p in calibrations_dir().glob("*.yaml")]
        raise UnknownIdError("calibration", name, difflib.get_close_matches(name, names, n=3))
    return _read(path)


def stored(profile: CalibrationProfile) -> StoredCalibration:
    """What :mod:`inferplan.service.calibration_store` needs of a file profile."""
    return StoredCalibration(profile.name, profile.engine, profile.accelerator,
                             dict(profile.parameters))


class FileCalibrationStore:
    """The file backend of :class:`~inferplan.service.calibration_store.CalibrationStore`:
    profiles under :func:`calibrations_dir` (unknown names raise with the closest ones)."""

    def get(self, name: str) -> StoredCalibration:
        return stored(load_profile(name))


def efficiency_of(profile: CalibrationProfile) -> EngineEfficiency:
    """The engine profile's efficiencies with the fitted parameters applied."""
    return calibration_hook(stored(profile)).efficiency


def efficiency_hook(profile: CalibrationProfile) -> CalibrationHook:
    """For ``plan(efficiency_for=...)``: the profile's efficiencies on its accelerator
    and engine only (:func:`~inferplan.service.calibration_store.calibration_hook`)."""
    return calibration_hook(stored(profile))


def calibrated(d: Deployment, profile: CalibrationProfile) -> Deployment:
    """``d`` with the profile's efficiencies; a profile of other hardware or engine raises
    (:func:`~inferplan.service.calibration_store.apply_calibration`)."""
    return apply_calibration(d, stored(profile))


def _guess_model(name: str) -> str:
    models = load_models()
    stem = Path(name).name.removesuffix(".gguf")
    for key in (name, stem, stem.split(".")[0]):
        if key in models:
            return models.get(key).id
    raise SpecError("model", f"the run's model '{name}' is not in the catalog; give --model")


def _guess_precision(name: str) -> str:
    low = Path(name).name.lower().replace("-", "_")
    for p, info in PRECISIONS.items():
        if info.gguf and re.search(rf"(?<![a-z0-9]){re.escape(p.value)}(?![a-z0-9])", low):
            return p.value
    return "bf16"


def calibrate(
    results: Sequence[Path],
    gpu: str,
    engine: str | None = None,
    model: str | None = None,
    precision: str | None = None,
    kv_precision: str | None = None,
    name: str | None = None,
    parameters: Sequence[str] | None = None,
) -> tuple[CalibrationFit, CalibrationProfile]:
    """Fit the runs in ``results`` and describe the fit as a profile (not saved).

    ``engine``, ``model`` and ``precision`` default to what the first run recorded
    (detected engine, served model name, a GGUF quantization in that name, else bf16).
    """
    if not results:
        raise SpecError("results", "give at least one bench run folder")
    if name is not None:
        profile_path(name)
    read = [read_run(Path(p).resolve()) for p in results]
    meta = read[0][0]
    engine_id = engine or meta.engine
    if engine is None and engine_id not in load_engines():
        raise SpecError("engine", f"the run's engine '{engine_id}' is not in the catalog")
    d = resolve(
        model or _guess_model(meta.model),
        gpu,
        engine_id,
        precision or _guess_precision(meta.model),
        kv_precision,
    )
    stages = [m for _, ms, _ in read for m in ms]
    fit = fit_efficiency(d, stages, parameters)
    notes = [n for _, _, ns in read for n in ns] + fit.notes
    for m_, _, _ in read[1:]:
        if (m_.model, m_.engine) != (meta.model, meta.engine):
            notes.append(f"runs differ: {m_.model} on {m_.engine} vs {meta.model} on {meta.engine}")
    profile = CalibrationProfile(
        name=name or f"{d.accelerator.id}-{d.engine.id}",
        engine=d.engine.id,
        accelerator=d.accelerator.id,
        model=d.model.id,
        precision=d.weights.precision.value,
        kv_precision=d.kv_precision,
        parameters=fit.fitted,
        prior=fit.prior_values,
        runs=[
            RunRef(
                path=str(Path(p).resolve()),
                started_at=m_.started_at,
                model=m_.model,
                engine=m_.engine,
                stages=[
                    StageRef(
                        stage=s.stage,
                        load=s.load,
                        input_tokens=s.input_tokens,
                        output_tokens=s.output_tokens,
                        requests=s.requests,
                    )
                    for s in ms
                ],
            )
            for p, (m_, ms, _) in zip(results, read, strict=True)
        ],
        comparison=[
            ComparisonEntry(
                run=r.run,
                stage=r.stage,
                load=r.load,
                metric=r.metric,
                measured=r.measured,
                before=r.before,
                after=r.after,
                error_before=r.error_before,
                error_after=r.error_after,
            )
            for r in fit.rows
        ],
        error_before=fit.mean_abs_error(after=False),
        error_after=fit.mean_abs_error(after=True),
        notes=notes,
        as_of=dt.date.today(),
    )
    return fit, profile
