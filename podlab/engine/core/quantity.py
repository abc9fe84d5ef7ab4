"""Kubernetes ``resource.Quantity``: parsing, exact values and the API server's canonical form.

A quantity is a signed decimal number followed by a suffix:

* decimal SI: ``n`` ``u`` ``m`` (none) ``k`` ``M`` ``G`` ``T`` ``P`` ``E``;
* binary SI: ``Ki`` ``Mi`` ``Gi`` ``Ti`` ``Pi`` ``Ei``;
* a decimal exponent: ``e3``, ``E-2``.

Values are kept exactly as :class:`fractions.Fraction`.  The canonical form is what the API
server writes back: the value is rounded up to nano precision, the suffix family of the input
is kept (binary values that are not whole multiples fall back to decimal SI), the mantissa is
an integer and the exponent is the largest one that keeps it whole (``1500`` stays ``1500``,
``1000`` becomes ``1k``, ``0.5`` becomes ``500m``, ``1024Mi`` becomes ``1Gi``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{QUANTITY_PATTERN}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"
#: digits a quantity's number may have (the lab's bound; Python converts at most 4,300)
MAX_DIGITS = 1000

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

_DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_DECIMAL_BY_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES: dict[str, int] = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_BINARY_BY_POWER = {power: suffix for suffix, power in _BINARY_SUFFIXES.items()}

_SHAPE = re.compile(QUANTITY_PATTERN)
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
_EXPONENT = re.compile(r"^[eE]([+-]?[0-9]+)$")
_NANO = Fraction(1, 10**9)


class QuantityError(ValueError):
    """A string that is not a quantity; ``str()`` is the API server's message."""


@dataclass(frozen=True)
class Quantity:
    """An exact quantity and the suffix family it was written in."""

    value: Fraction
    format: str

    def canonical(self) -> str:
        """The string the API server returns for this quantity."""
        return canonical_string(self)

    def millicores(self) -> int:
        """CPU in millicores, rounded up like ``Quantity.MilliValue``."""
        return math.ceil(self.value * 1000)

    def as_int(self) -> int:
        """The value rounded up to a whole number (memory in bytes), like ``Quantity.Value``."""
        return math.ceil(self.value)


def parse_quantity(text: str | int | float) -> Quantity:
    """Parse a quantity written in a manifest (JSON numbers are accepted, as the API does)."""
    if isinstance(text, bool):
        raise QuantityError(ERR_FORMAT)
    if isinstance(text, int):
        return Quantity(Fraction(text), DECIMAL_SI)
    if isinstance(text, float):
        if not math.isfinite(text):
            raise QuantityError(ERR_FORMAT)
        text = repr(text)
        if "e" in text:
            mantissa, exponent = text.split("e")
            value = Fraction(mantissa) * Fraction(10) ** int(exponent)
            return Quantity(value, DECIMAL_EXPONENT)
        return Quantity(Fraction(text), DECIMAL_SI)
    if not isinstance(text, str):
        raise QuantityError(ERR_FORMAT)
    shape = _SHAPE.match(text)
    if not text or shape is None:
        raise QuantityError(ERR_FORMAT)
    number, suffix = shape.group(1), shape.group(2)
    if not _NUMBER.match(number):
        # Go's parser walks the digits itself; a second '.' or a lone '.' ends up here.
        raise QuantityError(ERR_FORMAT if number.strip("+-") in ("", ".") else ERR_NUMERIC)
    if len(number) > MAX_DIGITS:
        # Python converts at most 4,300 digits; no real quantity comes close.
        raise QuantityError(ERR_NUMERIC)
    value = Fraction(number.lstrip("+") if not number.startswith("+.") else number[1:])
    if suffix in _DECIMAL_SUFFIXES:
        return Quantity(value * Fraction(10) ** _DECIMAL_SUFFIXES[suffix], DECIMAL_SI)
    if suffix in _BINARY_SUFFIXES:
        return Quantity(value * 1024 ** _BINARY_SUFFIXES[suffix], BINARY_SI)
    exponent = _EXPONENT.match(suffix)
    if exponent is not None:
        power = int(exponent.group(1))
        if abs(power) > 1000:
            raise QuantityError(ERR_SUFFIX)
        return Quantity(value * Fraction(10) ** power, DECIMAL_EXPONENT)
    raise QuantityError(ERR_SUFFIX)


def canonical_string(quantity: Quantity) -> str:
    """Canonical form: the API server's ``Quantity.String()`` after round-trip."""
    value = _round_up_to_nano(quantity.value)
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    family = quantity.format
    if family == BINARY_SI and (magnitude < 1024 or magnitude.denominator != 1):
        family = DECIMAL_SI
    if family == BINARY_SI:
        mantissa = magnitude.numerator
        power = 0
        while power < 6 and mantissa % 1024 == 0:
            mantissa //= 1024
            power += 1
        return f"{sign}{mantissa}{_BINARY_BY_POWER.get(power, '')}"
    # Decimal: integer mantissa, exponent a multiple of three, as large as possible.
    scaled = magnitude / _NANO  # whole number of nano units after rounding
    mantissa = scaled.numerator
    exponent = -9
    while mantissa % 1000 == 0 and mantissa != 0:
        mantissa //= 1000
        exponent += 3
    if family == DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    if exponent in _DECIMAL_BY_EXPONENT:
        return f"{sign}{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"
    # Larger than the E suffix: scale down into exa units.
    return f"{sign}{mantissa * 10 ** (exponent - 18)}E"


def _round_up_to_nano(value: Fraction) -> Fraction:
    nanos = value / _NANO
    rounded = math.ceil(nanos) if value > 0 else -math.ceil(-nanos)
    return Fraction(rounded) * _NANO


def canonical(text: str | int | float) -> str:
    """Parse and canonicalise in one step (``"0.5"`` -> ``"500m"``)."""
    return parse_quantity(text).canonical()


def cpu_millicores(text: str | int | float) -> int:
    """CPU quantity in millicores (``"250m"`` -> 250, ``1`` -> 1000)."""
    return parse_quantity(text).millicores()


def memory_bytes(text: str | int | float) -> int:
    """Memory quantity in bytes (``"128Mi"`` -> 134217728)."""
    return parse_quantity(text).as_int()
