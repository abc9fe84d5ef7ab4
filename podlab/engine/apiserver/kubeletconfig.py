"""The kubelet's configuration as the API defines it (``pkg/kubelet/apis/config``): the hard
eviction thresholds (``evictionHard``) and how the kubelet parses them
(``pkg/kubelet/eviction/helpers.go`` ``ParseThresholdConfig``). Validation refuses a Node
whose thresholds the kubelet could not parse; the kubelet (``kubelet/resources.py``) acts on
them."""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from podlab.engine.core.quantity import Quantity, QuantityError, parse_quantity

#: The eviction signals (``evictionapi.Signal``).
SIGNAL_MEMORY = "memory.available"
SIGNAL_NODEFS = "nodefs.available"
SIGNAL_IMAGEFS = "imagefs.available"
SIGNAL_NODEFS_INODES = "nodefs.inodesFree"
SIGNAL_IMAGEFS_INODES = "imagefs.inodesFree"
SIGNAL_PID = "pid.available"
SIGNALS = frozenset({SIGNAL_MEMORY, SIGNAL_NODEFS, SIGNAL_IMAGEFS, SIGNAL_NODEFS_INODES,
                     SIGNAL_IMAGEFS_INODES, SIGNAL_PID})


def float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def binary_quantity(value: int) -> str:
    """``resource.NewQuantity(value, BinarySI).String()``: a whole number of the largest
    binary unit that divides it, else plain bytes (under 1024 in decimal units, as Go's
    canonicalisation does)."""
    return Quantity(Fraction(value), "BinarySI").canonical()


@dataclass(frozen=True, slots=True)
class Threshold:
    """One hard eviction threshold: the signal and either a quantity or a percentage (the
    float32 fraction the kubelet parses ``10%`` into)."""

    signal: str
    quantity: int | None = None
    percent: str | None = None  # the text before "%", e.g. "10"
    text: str = ""  # a quantity as the kubelet prints it ("100Mi")

    def value(self, capacity: int) -> int:
        """``GetThresholdQuantity``: the quantity, or the percentage of the capacity."""
        if self.quantity is not None:
            return self.quantity
        return _percent_of(self.percent or "0", capacity)

    def quantity_text(self, capacity: int) -> str:
        """The threshold as the eviction message prints it: a percentage becomes a BinarySI
        quantity of the capacity."""
        return self.text if self.quantity is not None else binary_quantity(self.value(capacity))


@functools.lru_cache(maxsize=256)
def _percent_of(percent: str, capacity: int) -> int:
    """``percent`` % of ``capacity`` through float32, as the kubelet computes it (asked
    for every node on every eviction pass: the same few answers)."""
    fraction = float32(float32(float(percent)) / float32(100.0))
    return int(float(capacity) * fraction)


class ThresholdError(ValueError):
    pass


def parse_eviction_hard(statements: Sequence[str]) -> tuple[Threshold, ...]:
    """``parseThresholdStatements`` for ``evictionHard`` (``signal<value`` each), with the
    kubelet's errors (it refuses to start with an invalid threshold)."""
    out: list[Threshold] = []
    seen: set[str] = set()
    for statement in statements:
        signal, sep, value = statement.strip().partition("<")
        signal, value = signal.strip(), value.strip()
        if not sep or not value:
            raise ThresholdError(
                f"invalid eviction threshold syntax {statement}, expected <signal><operator><value>"
            )
        if signal not in SIGNALS:
            raise ThresholdError(f"unsupported eviction signal {signal}")
        if signal in seen:
            raise ThresholdError(f"found duplicate eviction threshold for signal {signal}")
        seen.add(signal)
        if value.endswith("%"):
            if value in ("0%", "100%"):  # parseThresholdStatement ignores them
                continue
            try:
                percent = float(value[:-1])
            except ValueError as err:
                raise ThresholdError(
                    f'strconv.ParseFloat: parsing "{value[:-1]}": invalid syntax'
                ) from err
            if percent < 0:
                raise ThresholdError(
                    f"eviction percentage threshold {signal} must be >= 0%: {value}"
                )
            if percent > 100:
                raise ThresholdError(
                    f"eviction percentage threshold {signal} must be <= 100%: {value}"
                )
            out.append(Threshold(signal, percent=value[:-1]))
            continue
        try:
            parsed = parse_quantity(value)
        except (QuantityError, ValueError, TypeError) as err:
            raise ThresholdError(str(err)) from err
        amount = parsed.value
        text = parsed.canonical()
        if amount <= 0:
            raise ThresholdError(f"eviction threshold {signal} must be positive: {text}")
        out.append(Threshold(signal, quantity=math.ceil(amount), text=text))
    return tuple(out)
