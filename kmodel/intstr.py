"""IntOrString arithmetic (k8s.io/apimachinery/pkg/util/intstr GetScaledValueFromIntOrPercent)."""

from __future__ import annotations

import math
import re

_PERCENT = re.compile(r"^[0-9]+%$")


class IntOrPercentError(ValueError):
    """A string IntOrString value that is not a percentage."""


def is_percent(value: int | str) -> bool:
    """Whether `value` is a well-formed percentage string such as '25%'."""
    return isinstance(value, str) and bool(_PERCENT.match(value))


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """Resolve an int-or-percent against `total`.

    Integers are returned unchanged; "x%" gives ceil(x*total/100) when `round_up`,
    floor(x*total/100) otherwise. None counts as 0 (as the deployment fence-post
    helpers do with a nil value).
    """
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise IntOrPercentError(f"invalid value for IntOrString: invalid type: string is not a percentage: {value!r}")
    try:
        pct = int(value[:-1])
    except ValueError as e:
        raise IntOrPercentError(f"invalid value for IntOrString: invalid value {value!r}") from e
    if round_up:
        return math.ceil(pct * total / 100)
    return (pct * total) // 100
