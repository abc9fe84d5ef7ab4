"""``env -i`` and the environment a new process gets: busybox ``env`` clears the environment
before it execs the command, and a nested ``sh`` sees only exported variables."""

from __future__ import annotations

import pytest

from podlab.engine.runtime import images
from podlab.engine.runtime.fakeruntime import run_program


def sh(script: str) -> tuple[str, int | None]:
    info = images.lookup_image("busybox:1.36").info
    assert info is not None
    result = run_program(images.program_for(info, ["sh", "-c", script]),
                         fs=images.new_filesystem(info),
                         env={"PATH": "/bin:/usr/bin", "HOME": "/root", "SECRET": "s3"},
                         is_pid1=False)
    return result.logs, result.exit_code


@pytest.mark.parametrize(("script", "output"), [
    ("env -i env", ""),
    ("env -i A=1 B=2 env", "A=1\nB=2\n"),
    ("env - A=1 printenv A", "1\n"),
    ("env -i printenv SECRET; echo $?", "1\n"),
    ("env -i sh -c 'echo [$HOME][$SECRET][$A]'", "[][][]\n"),
    ("env -i A=2 sh -c 'echo $A; env'", "2\nA=2\n"),
    ("env -i /bin/echo hi", "hi\n"),
    # the shell's own environment is untouched afterwards
    ("env -i env; echo $SECRET; env | grep SECRET", "s3\nSECRET=s3\n"),
    ("env A=1 sh -c 'echo $A $SECRET'", "1 s3\n"),
])
def test_env_i_runs_the_command_with_only_the_given_variables(script: str,
                                                              output: str) -> None:
    assert sh(script) == (output, 0)


def test_env_cannot_execute_a_missing_program() -> None:
    assert sh("env -i nosuch") == ("env: can't execute 'nosuch': No such file or directory\n",
                                   127)


def test_a_nested_shell_sees_exported_variables_only() -> None:
    assert sh("Y=2; sh -c 'echo [$Y]'; export Y; sh -c 'echo [$Y]'") == ("[]\n[2]\n", 0)
    assert sh("set -e; sh -c 'false; echo still'") == ("still\n", 0)
