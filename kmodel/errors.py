"""Errors the user can act on: each names the file, the object and the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: source file (and line or document), object and field path."""

    source: str = ""
    obj: str = ""
    field: str = ""

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.obj, self.field) if p]
        return ": ".join(parts) if parts else "<input>"


class KModelError(Exception):
    """Base class of errors reported to the user without a traceback."""


class ManifestError(KModelError):
    """An invalid manifest, object or field."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class ScenarioError(KModelError):
    """An invalid scenario file or step."""


@dataclass(frozen=True)
class Note:
    """A non-fatal remark about input, e.g. a field the model does not interpret."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"
