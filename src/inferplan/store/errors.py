"""Errors of the store: a missing record and an edit based on a stale version."""

from __future__ import annotations

from inferplan.errors import InferplanError


class StoreError(InferplanError):
    """Base class of the store's errors."""


class NotFoundError(StoreError):
    """No record of ``kind`` has id ``record_id`` (HTTP 404)."""

    def __init__(self, kind: str, record_id: object) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"{kind} {record_id} not found")


class ConflictError(StoreError):
    """A write lost a race or collides with another record (HTTP 409).

    ``current_version`` is the stored version when the conflict is a stale edit.
    """

    def __init__(self, message: str, current_version: int | None = None) -> None:
        self.current_version = current_version
        super().__init__(message)


__all__ = ["ConflictError", "NotFoundError", "StoreError"]
