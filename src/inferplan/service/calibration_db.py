"""The database backend of :class:`inferplan.service.calibration_store.CalibrationStore`.

``inferplan serve`` keeps calibration profiles in the ``calibrations`` table (the
REST API's ``/calibrations`` routes edit them); :class:`DatabaseCalibrationStore`
hands them to the one place that applies a profile
(:func:`inferplan.service.calibration_store.apply_calibration` and
:func:`~inferplan.service.calibration_store.calibration_hook`), as the file
backend does for the command line.
"""

from __future__ import annotations

from inferplan.service.calibration_store import StoredCalibration
from inferplan.store.database import Store
from inferplan.store.records import calibration_named


class DatabaseCalibrationStore:
    """Profiles in the service's database; an unknown name raises
    :class:`~inferplan.store.errors.NotFoundError`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, name: str) -> StoredCalibration:
        row = calibration_named(self.store, name)
        return StoredCalibration(row.name, row.engine, row.accelerator, dict(row.parameters))


__all__ = ["DatabaseCalibrationStore"]
