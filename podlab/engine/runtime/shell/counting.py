"""Counting loops: ``while true; do i=$((i+1)); done`` and its kin.

Such a loop runs forever and does nothing anyone could see but add constants to variables,
so iteration ``n`` is known without running the ``n - 1`` before it. :func:`counting_steps`
recognises it from the syntax tree alone — the condition is ``true`` or ``:`` (``false`` for
``until``) and every command of the body adds a constant to one variable (``v=$((v+1))``,
``v=$(($v - 2))``, ``: $((v+=3))``, ``: $((v++))``) — and returns what one iteration adds to
each variable. The interpreter runs a few iterations, then jumps ahead a CPU slice's worth
at a time (``Shell.run_loop``), adding ``n`` times the step with ash's 64-bit wrap-around.
"""

from __future__ import annotations

import re

from podlab.engine.runtime.shell import parser as p

__all__ = ["advance", "counting_steps", "is_integer_text"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"(?:0|[1-9][0-9]{0,17})"  # a leading 0 would be octal; keep to plain decimals
_SELF_ADD = re.compile(rf"\s*({_NAME})\s*([+-])\s*({_NUMBER})\s*")
_ADD_SELF = re.compile(rf"\s*({_NUMBER})\s*\+\s*({_NAME})\s*")
_COMPOUND = re.compile(rf"\s*({_NAME})\s*([+-])=\s*({_NUMBER})\s*")
_POSTFIX = re.compile(rf"\s*({_NAME})\s*(\+\+|--)\s*")
_PREFIX = re.compile(rf"\s*(\+\+|--)\s*({_NAME})\s*")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def is_integer_text(text: str) -> bool:
    """A variable's value as ash's arithmetic writes it back (plain decimal)."""
    return _INTEGER.fullmatch(text) is not None


def advance(value: str, step: int, iterations: int) -> str:
    """``value`` after ``iterations`` additions of ``step`` in signed 64-bit arithmetic."""
    total = (int(value) + step * iterations) & ((1 << 64) - 1)
    return str(total - (1 << 64) if total >= 1 << 63 else total)


def _arith_text(word: p.Word) -> str | None:
    """The text of ``$((...))`` when the word is exactly one, with ``$v`` read as ``v``."""
    if len(word.parts) != 1 or not isinstance(word.parts[0], p.Arith):
        return None
    out = []
    for part in word.parts[0].expr.parts:
        if isinstance(part, p.Lit):
            out.append(part.text)
        elif isinstance(part, p.Param) and part.op == "" and re.fullmatch(_NAME, part.name):
            out.append(part.name)
        else:
            return None
    return "".join(out)


def _assignment_step(name: str, word: p.Word) -> int | None:
    text = _arith_text(word)
    if text is None:
        return None
    m = _SELF_ADD.fullmatch(text)
    if m is not None and m.group(1) == name:
        return int(m.group(3)) * (1 if m.group(2) == "+" else -1)
    m = _ADD_SELF.fullmatch(text)
    if m is not None and m.group(2) == name:
        return int(m.group(1))
    return None


def _colon_step(word: p.Word) -> tuple[str, int] | None:
    text = _arith_text(word)
    if text is None:
        return None
    m = _COMPOUND.fullmatch(text)
    if m is not None:
        return m.group(1), int(m.group(3)) * (1 if m.group(2) == "+" else -1)
    m = _POSTFIX.fullmatch(text)
    if m is not None:
        return m.group(1), 1 if m.group(2) == "++" else -1
    m = _PREFIX.fullmatch(text)
    if m is not None:
        return m.group(2), 1 if m.group(1) == "++" else -1
    return None


def _commands(node: p.Node) -> list[p.Node] | None:
    if isinstance(node, p.ListNode):
        if any(background for _, background in node.items):
            return None
        return [command for command, _ in node.items]
    return [node]


def _literal_command(node: p.Node) -> str | None:
    if not isinstance(node, p.Simple) or node.assigns or node.redirs or len(node.words) != 1:
        return None
    return node.words[0].literal()


def counting_steps(loop: p.Loop, functions: dict[str, p.Node]) -> dict[str, int] | None:
    """What one iteration adds to each variable, or None when the loop is not a counting
    loop (anything else in it could be seen: output, files, jobs, tests on the values)."""
    if loop.redirs:
        return None
    cond = _commands(loop.cond)
    if cond is None or len(cond) != 1:
        return None
    word = _literal_command(cond[0])
    if word not in (("false",) if loop.until else ("true", ":")) or word in functions:
        return None
    body = _commands(loop.body)
    if not body:
        return None
    steps: dict[str, int] = {}
    for command in body:
        if not isinstance(command, p.Simple) or command.redirs:
            return None
        if command.assigns and not command.words:
            for name, value in command.assigns:
                step = _assignment_step(name, value)
                if step is None:
                    return None
                steps[name] = steps.get(name, 0) + step
        elif not command.assigns and len(command.words) == 2:
            if command.words[0].literal() != ":" or ":" in functions:
                return None
            found = _colon_step(command.words[1])
            if found is None:
                return None
            steps[found[0]] = steps.get(found[0], 0) + found[1]
        else:
            return None
    return steps
