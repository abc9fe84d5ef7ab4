"""Counting loops (``runtime/shell/counting.py``): which loops are recognised from the
syntax tree alone, and the 64-bit arithmetic of jumping ahead."""

from __future__ import annotations

import pytest

from podlab.engine.runtime.shell import parser as p
from podlab.engine.runtime.shell.counting import advance, counting_steps, is_integer_text


def loop_of(source: str) -> p.Loop:
    tree = p.parse(source)
    assert isinstance(tree, p.ListNode)
    node = tree.items[0][0]
    assert isinstance(node, p.Loop)
    return node


@pytest.mark.parametrize(
    ("source", "steps"),
    [
        ("while true; do i=$((i+1)); done", {"i": 1}),
        ("while :; do i=$(( i - 3 )); done", {"i": -3}),
        ("while true; do i=$((2+i)); j=$(($j + 1)); done", {"i": 2, "j": 1}),
        ("while true; do : $((n+=5)); : $((m++)); : $((--k)); done", {"n": 5, "m": 1, "k": -1}),
        ("until false; do i=$((i+1)) j=$((j-1)); done", {"i": 1, "j": -1}),
        ("while true; do i=$((i+1)); i=$((i+1)); done", {"i": 2}),
    ],
)
def test_a_counting_loop_is_recognised(source: str, steps: dict[str, int]) -> None:
    assert counting_steps(loop_of(source), {}) == steps


@pytest.mark.parametrize(
    "source",
    [
        "while true; do i=$((i*2)); done",  # not a constant step
        "while true; do i=$((j+1)); done",  # another variable
        "while true; do i=$((i+010)); done",  # octal: left to the interpreter
        "while [ $i -lt 10 ]; do i=$((i+1)); done",  # the condition reads the value
        "while true; do i=$((i+1)); echo $i; done",  # output
        "while true; do i=$((i+1)) >/tmp/f; done",  # a redirection creates a file
        "while true; do i=$((i+1)) & done",  # jobs
        "until true; do i=$((i+1)); done",  # never runs
        "while false; do i=$((i+1)); done",
        "while true; do i=$(date); done",
        "while true; do :; done",  # changes nothing: the spin of run_loop
    ],
)
def test_anything_else_is_not_a_counting_loop(source: str) -> None:
    assert not counting_steps(loop_of(source), {})


def test_a_function_named_true_is_not_the_builtin() -> None:
    body = p.parse("echo x")
    assert counting_steps(loop_of("while true; do i=$((i+1)); done"), {"true": body}) is None
    assert counting_steps(loop_of("while :; do : $((i+=1)); done"), {":": body}) is None


def test_jumping_ahead_wraps_like_ash() -> None:
    assert advance("0", 1, 1_000_000) == "1000000"
    assert advance("10", -3, 4) == "-2"
    assert advance("9223372036854775807", 1, 1) == "-9223372036854775808"
    assert is_integer_text("-42") and not is_integer_text("007") and not is_integer_text("x")
