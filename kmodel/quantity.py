"""Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "1e3").

The model keeps every resource as an integer: CPU in millicores, memory and
storage in bytes, everything else (pods, extended resources) as a plain count.
Parsing follows the suffixes of `k8s.io/apimachinery/pkg/api/resource/quantity.go`
(binary Ki..Ei, decimal n,u,m,k,M,G,T,P,E and decimal exponents); values are
rounded up to the next integer of the model's unit, as Quantity.MilliValue/Value do.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")

MILLI_RESOURCES = frozenset({"cpu"})


class QuantityError(ValueError):
    """A string is not a valid Kubernetes quantity."""


def parse_quantity(text: str | int | float) -> Decimal:
    """Parse a quantity string into an exact Decimal number of base units."""
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not a quantity")
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    m = _QUANTITY.match(text.strip())
    if not m:
        raise QuantityError(f"{text!r} is not a quantity (expected e.g. '500m', '2', '128Mi')")
    number, suffix = m.groups()
    try:
        value = Decimal(number)
    except InvalidOperation as e:
        raise QuantityError(f"{text!r} is not a quantity") from e
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    if suffix and suffix[0] in "eE":
        return value * (Decimal(10) ** int(suffix[1:]))
    return value * _DECIMAL[suffix]


def to_model_units(resource: str, text: str | int | float) -> int:
    """Convert a quantity into the model's integer unit for `resource`."""
    value = parse_quantity(text)
    if resource in MILLI_RESOURCES:
        value = value * 1000
    return int(math.ceil(value))


def format_quantity(resource: str, amount: int) -> str:
    """Render a model integer back as a canonical quantity string."""
    if resource in MILLI_RESOURCES:
        return str(amount // 1000) if amount % 1000 == 0 else f"{amount}m"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if amount and amount % unit == 0 and amount >= unit:
            return f"{amount // unit}{suffix}"
    return str(amount)
