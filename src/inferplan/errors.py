"""The inferplan exception tree (layer 0).

Every error a user can cause derives from :class:`InferplanError`; the CLI turns
them into one-line messages and exit code 2, never a traceback.
"""

from __future__ import annotations


class InferplanError(Exception):
    """Base class of every error inferplan raises on purpose."""


class SpecError(InferplanError, ValueError):
    """An input is invalid. ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnknownIdError(SpecError):
    """A catalog id was not found; ``suggestions`` holds the closest ids."""

    def __init__(self, field: str, value: str, suggestions: list[str]) -> None:
        self.value = value
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(field, f"unknown id '{value}'{hint}")


class CatalogError(InferplanError):
    """A shipped or user catalog file is malformed."""


class InfeasibleError(InferplanError):
    """No configuration satisfies the request (does not fit, SLO impossible)."""


class BenchmarkError(InferplanError):
    """A benchmark run could not be carried out."""


__all__ = [
    "BenchmarkError",
    "CatalogError",
    "InfeasibleError",
    "InferplanError",
    "SpecError",
    "UnknownIdError",
]
