"""Conversion between model seconds and RFC 3339 timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def parse_rfc3339(text: str) -> datetime:
    """Parse '2024-01-01T00:00:05Z' (or with an offset / fractional seconds)."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def to_model_seconds(text: str, epoch: datetime = DEFAULT_EPOCH) -> int:
    """Seconds since `epoch` (truncated to whole seconds, as metav1.Time serialises)."""
    return int((parse_rfc3339(text) - epoch).total_seconds() // 1)


def to_rfc3339(seconds: int, epoch: datetime = DEFAULT_EPOCH) -> str:
    """Render model seconds as an RFC 3339 UTC timestamp."""
    return (epoch + timedelta(seconds=seconds)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
