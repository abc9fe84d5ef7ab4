"""Random input never crashes the shell: it parses, or fails with ash's syntax error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podlab.engine.runtime.fakeruntime import run_program
from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.shell import APPLETS, ShellSyntaxError, parse, run_script

SHELL_ALPHABET = list("abcxyz019 \t\n;&|(){}<>$`'\"\\=*?#!-+%:/.") + [
    "if ", "then ", "else ", "fi", "while ", "do ", "done", "for ", " in ", "case ", "esac",
    ";;", "$((", "))", "${", "}", "$(", "<<", "2>&1", "echo ", "sleep 1", "exit ", "trap ",
    "wait", "kill ", "f() ", "break", "continue", "read ", "&&", "||",
]

shell_text = st.lists(st.sampled_from(SHELL_ALPHABET), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(shell_text, st.text(max_size=60)))
def test_parse_never_raises_anything_else(source: str) -> None:
    try:
        parse(source)
    except ShellSyntaxError as exc:
        assert str(exc).startswith("syntax error: ")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shell_text)
def test_running_random_scripts_is_clean(source: str) -> None:
    fs = MemoryFileSystem({f"/bin/{name}": "" for name in APPLETS}, dirs=["/tmp"])
    result = run_program(run_script(source), fs=fs, until=20.0)
    try:
        parse(source)
    except ShellSyntaxError as exc:
        assert result.exit_code == 2
        assert result.stderr == f"sh: {exc}\n"
        return
    assert result.exit_code is None or 0 <= result.exit_code <= 255
