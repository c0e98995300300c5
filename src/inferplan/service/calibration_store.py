"""One calibration store interface and one place that applies a profile.

A calibration profile is a named set of fitted :class:`EngineEfficiency` parameters
for one engine on one accelerator. Two backends keep profiles:

* files (``inferplan calibrate``, ``perf``, ``plan`` on the command line):
  :class:`inferplan.service.calibration_profiles.FileCalibrationStore`, YAML files
  under ``$INFERPLAN_HOME/calibrations``;
* the database of ``inferplan serve`` (the REST API and the web UI):
  :class:`inferplan.service.calibration_db.DatabaseCalibrationStore`.

Both satisfy :class:`CalibrationStore` and return a :class:`StoredCalibration`;
whatever the backend, a profile takes effect through :func:`apply_calibration`
(one deployment: ``perf``) or :func:`calibration_hook` (the planner's
``efficiency_for``: ``plan``), which both check the parameters with
:func:`check_parameters` against the engine profile's current efficiencies.

Example::

    >>> cal = StoredCalibration("slow", "vllm", "h100-sxm-80gb", {"step_overhead_s": 0.01})
    >>> calibration_hook(cal).efficiency.step_overhead_s
    0.01
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from pydantic import ValidationError

from inferplan.catalog import load_engines
from inferplan.deploy.deployment import Deployment
from inferplan.errors import SpecError
from inferplan.specs.engine import EngineEfficiency


@dataclass(frozen=True)
class StoredCalibration:
    """A profile as any store returns it: name, engine and accelerator it was
    fitted for, and the fitted parameters (names of :class:`EngineEfficiency`)."""

    name: str
    engine: str
    accelerator: str
    parameters: Mapping[str, object]


class CalibrationStore(Protocol):
    """Where profiles are kept; ``get`` raises an :class:`~inferplan.errors.InferplanError`
    naming ``calibration`` for an unknown name."""

    def get(self, name: str) -> StoredCalibration: ...


def check_parameters(engine: str, parameters: Mapping[str, object]) -> EngineEfficiency:
    """The engine profile's efficiencies with ``parameters`` applied, checked: every
    key must be an :class:`EngineEfficiency` field and every value a number in that
    field's range (a string is refused, not converted). Raises :class:`SpecError`
    naming ``parameters.<key>``."""
    fields = EngineEfficiency.model_fields
    for key, value in parameters.items():
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise SpecError(f"parameters.{key}",
                            f"not an efficiency parameter; allowed: {allowed}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"parameters.{key}", f"must be a number, not {value!r}")
    base = load_engines().get(engine, "engine").efficiency
    try:
        return EngineEfficiency.model_validate({**base.model_dump(), **parameters})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err.get("loc", ())) or "parameters"
        raise SpecError(f"parameters.{key}", str(err.get("msg", "invalid"))) from None


@dataclass(frozen=True)
class CalibrationHook:
    """The planner's ``efficiency_for``: ``efficiency`` on ``accelerator`` with
    ``engine``, None (engine defaults) elsewhere. A plain class, so it pickles to
    worker processes."""

    accelerator: str
    engine: str
    efficiency: EngineEfficiency

    def __call__(self, d: Deployment) -> EngineEfficiency | None:
        if d.accelerator.id == self.accelerator and d.engine.id == self.engine:
            return self.efficiency
        return None


def calibration_hook(cal: StoredCalibration) -> CalibrationHook:
    """For ``plan(efficiency_for=...)``: the profile's efficiencies on its accelerator
    and engine only."""
    efficiency = check_parameters(cal.engine, cal.parameters)
    return CalibrationHook(cal.accelerator, cal.engine, efficiency)


def apply_calibration(d: Deployment, cal: StoredCalibration) -> Deployment:
    """``d`` with the profile's efficiencies; a profile of other hardware or engine
    raises :class:`SpecError` on ``calibration``."""
    if d.accelerator.id != cal.accelerator or d.engine.id != cal.engine:
        raise SpecError(
            "calibration",
            f"'{cal.name}' was fitted for {cal.engine} on {cal.accelerator}, not "
            f"{d.engine.id} on {d.accelerator.id}",
        )
    return replace(d, efficiency=check_parameters(cal.engine, cal.parameters))


__all__ = [
    "CalibrationHook",
    "CalibrationStore",
    "StoredCalibration",
    "apply_calibration",
    "calibration_hook",
    "check_parameters",
]
