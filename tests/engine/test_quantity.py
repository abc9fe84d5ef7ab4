"""Kubernetes resource quantities."""

from __future__ import annotations

from fractions import Fraction

import pytest

from podlab.engine.core.quantity import (
    ERR_FORMAT,
    QuantityError,
    canonical,
    cpu_millicores,
    memory_bytes,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100m", "100m"),
        ("0.5", "500m"),
        ("1", "1"),
        ("1000", "1k"),
        ("1500", "1500"),
        ("128Mi", "128Mi"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Ki", "512"),
        ("1.1Ki", "1126400m"),
        ("1e3", "1e3"),
        ("12e6", "12e6"),
        ("129M", "129M"),
        ("0.1m", "100u"),
        ("1.0000000001", "1000000001n"),
        (".5", "500m"),
        ("+1", "1"),
        ("-2", "-2"),
        ("0", "0"),
        ("0Mi", "0"),
        (2, "2"),
        (0.25, "250m"),
    ],
)
def test_canonical_form(text: str | int | float, expected: str) -> None:
    assert canonical(text) == expected


def test_exact_values() -> None:
    assert parse_quantity("1Ki").value == 1024
    assert parse_quantity("2.5M").value == 2_500_000
    assert parse_quantity("3n").value == Fraction(3, 10**9)
    assert parse_quantity("1E").value == 10**18
    assert parse_quantity("1Ei").value == 2**60
    assert parse_quantity("5e-1").value == Fraction(1, 2)


def test_cpu_and_memory() -> None:
    assert cpu_millicores("250m") == 250
    assert cpu_millicores(1) == 1000
    assert cpu_millicores("0.1m") == 1  # rounded up, like MilliValue
    assert memory_bytes("128Mi") == 134_217_728
    assert memory_bytes("1G") == 1_000_000_000
    assert memory_bytes("1.5") == 2


@pytest.mark.parametrize("text", ["abc", "", "1 Gi", "Mi", "1.5.Gi", "+", "1x", True])
def test_invalid_format(text: object) -> None:
    with pytest.raises(QuantityError) as caught:
        parse_quantity(text)  # type: ignore[arg-type]
    assert str(caught.value) in (ERR_FORMAT, "unable to parse numeric part of quantity")


def test_messages() -> None:
    with pytest.raises(QuantityError, match="^quantities must match the regular expression "):
        parse_quantity("12x")
    assert ERR_FORMAT == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    with pytest.raises(QuantityError, match="^unable to parse quantity's suffix$"):
        parse_quantity("1Ki2")
    with pytest.raises(QuantityError, match="^unable to parse numeric part of quantity$"):
        parse_quantity("1..2")
