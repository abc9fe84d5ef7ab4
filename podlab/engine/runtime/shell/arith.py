"""Shell arithmetic (``$(( ))`` and ``expr``-free counting): signed 64-bit integers."""

from __future__ import annotations

import re

__all__ = ["ArithError", "evaluate"]

_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_][A-Za-z0-9_]*)|"
    r"(\+=|-=|\*=|/=|%=|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|[-+*/%()<>!~?:=&|^,]))"
)

_BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}


class ArithError(Exception):
    pass


def _wrap(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >= 1 << 63 else n


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ArithError("arithmetic syntax error")
        out.append(m.group(m.lastindex or 0))
        pos = m.end()
    return out


class _Eval:
    def __init__(self, tokens: list[str], env: dict[str, str]) -> None:
        self.t = tokens
        self.i = 0
        self.env = env
        self.depth = 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        if self.i >= len(self.t):
            raise ArithError("arithmetic syntax error")
        tok = self.t[self.i]
        self.i += 1
        return tok

    def var(self, name: str) -> int:
        raw = self.env.get(name, "").strip()
        if not raw:
            return 0
        try:
            return _wrap(int(raw, 0) if not raw.lstrip("-").startswith("0") else int(raw))
        except ValueError:
            try:
                return _wrap(int(raw))
            except ValueError as exc:
                raise ArithError("arithmetic syntax error") from exc

    def expr(self) -> int:
        self.depth += 1
        if self.depth > 200:
            raise ArithError("arithmetic syntax error")
        try:
            return self.assign()
        finally:
            self.depth -= 1

    def assign(self) -> int:
        tok = self.peek()
        nxt = self.t[self.i + 1] if self.i + 1 < len(self.t) else None
        if tok and re.fullmatch(r"[A-Za-z_]\w*", tok) and nxt in ("=", "+=", "-=", "*=", "/=",
                                                                  "%="):
            self.i += 2
            value = self.assign()
            if nxt != "=":
                value = self.apply(nxt[0], self.var(tok), value)
            self.env[tok] = str(value)
            return value
        return self.ternary()

    def ternary(self) -> int:
        cond = self.binary(1)
        if self.peek() == "?":
            self.take()
            a = self.expr()
            if self.take() != ":":
                raise ArithError("arithmetic syntax error")
            b = self.ternary()
            return a if cond else b
        return cond

    def apply(self, op: str, a: int, b: int) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise ArithError("divide by zero")
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
            return _wrap(q if op == "/" else a - q * b)
        result = {
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "<<": lambda: a << (b & 63), ">>": lambda: a >> (b & 63),
            "<": lambda: int(a < b), ">": lambda: int(a > b), "<=": lambda: int(a <= b),
            ">=": lambda: int(a >= b), "==": lambda: int(a == b), "!=": lambda: int(a != b),
            "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
            "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b)),
        }[op]()
        return _wrap(result)

    def binary(self, min_prec: int) -> int:
        left = self.unary()
        while True:
            op = self.peek()
            prec = _BINARY.get(op or "")
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.binary(prec + 1)
            left = self.apply(op or "", left, right)

    def unary(self) -> int:
        tok = self.take()
        if tok == "-":
            return _wrap(-self.unary())
        if tok == "+":
            return self.unary()
        if tok == "!":
            return int(not self.unary())
        if tok == "~":
            return _wrap(~self.unary())
        if tok in ("++", "--"):
            name = self.take()
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise ArithError("arithmetic syntax error")
            value = _wrap(self.var(name) + (1 if tok == "++" else -1))
            self.env[name] = str(value)
            return value
        if tok == "(":
            value = self.expr()
            if self.take() != ")":
                raise ArithError("arithmetic syntax error")
            return value
        if tok[0].isdigit():
            try:
                if tok.lower().startswith("0x"):
                    return _wrap(int(tok, 16))
                if len(tok) > 1 and tok.startswith("0"):
                    return _wrap(int(tok, 8))
                return _wrap(int(tok))
            except ValueError as exc:
                raise ArithError("arithmetic syntax error") from exc
        if re.fullmatch(r"[A-Za-z_]\w*", tok):
            value = self.var(tok)
            if self.peek() in ("++", "--"):
                op = self.take()
                self.env[tok] = str(_wrap(value + (1 if op == "++" else -1)))
            return value
        raise ArithError("arithmetic syntax error")


def evaluate(text: str, env: dict[str, str]) -> int:
    """Evaluate ``text``; assignments (``i=i+1``, ``i++``) update ``env``."""
    if not text.strip():
        return 0
    ev = _Eval(_tokens(text), env)
    value = ev.expr()
    if ev.i != len(ev.t):
        raise ArithError("arithmetic syntax error")
    return value
