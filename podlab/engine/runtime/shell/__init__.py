"""A small busybox ``sh`` (ash) for simulated containers.

``command_program(argv)`` returns a program (see ``process.py``) that runs ``argv`` the way
the container's ``execve`` would: ``["sh", "-c", "..."]`` runs a script, ``["sleep", "10"]``
runs the applet directly. ``run_script`` is the same for a script given as text.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from podlab.engine.runtime.process import ProcessContext, Program
from podlab.engine.runtime.shell.applets import SHELL_NAMES, sh_main
from podlab.engine.runtime.shell.interp import (
    APPLETS,
    BUILTINS,
    ChildContext,
    ExternalLookup,
    Process,
    Shell,
    ShellExit,
)
from podlab.engine.runtime.shell.parser import ShellSyntaxError, parse

__all__ = [
    "APPLETS",
    "BUILTINS",
    "Process",
    "Shell",
    "ShellSyntaxError",
    "command_program",
    "parse",
    "run_script",
]


def command_program(
    argv: list[str],
    *,
    cwd: str = "/",
    uid: int = 0,
    busybox_version: str = "1.36.1",
    applets: frozenset[str] | None = None,
    external: ExternalLookup | None = None,
    gid: int | None = None,
    groups: tuple[int, ...] = (),
) -> Callable[[ProcessContext], Program]:
    """A program that executes ``argv`` (an applet, ``sh`` or a shell script file).

    ``external`` maps a command line to one of the image's own programs (``nginx``,
    ``redis-server``): the shell runs it as a child, or lets it replace the shell on ``exec``.
    """

    def main(ctx: ProcessContext) -> Program:
        proc = Process(ctx, cwd=cwd, uid=uid, busybox_version=busybox_version, applets=applets,
                       external=external)
        # credentials beyond the uid, read by ``id`` (applets.py)
        proc.gid = uid if gid is None else gid  # type: ignore[attr-defined]
        proc.groups = groups  # type: ignore[attr-defined]
        shell = Shell(proc, name=argv[0] if argv else "sh")

        def body() -> Generator[Any, Any, int]:
            name = argv[0].rsplit("/", 1)[-1] if argv else ""
            if name in SHELL_NAMES and shell.find_command(argv[0]) is not None:
                # The shell itself is this process (PID 1 in a container): traps are its own.
                return int((yield from sh_main(shell, proc.stdio, list(argv))))
            try:
                return int((yield from shell.exec_command(list(argv), proc.stdio, {})))
            except ShellExit as exc:
                return exc.status

        status = yield from proc.run(body(), " ".join(argv))
        replace = proc.exec_replace
        if replace is None:
            return status
        replaced = ChildContext(ctx, replace.argv, replace.env, None, None)
        return int((yield from replace.factory(replaced)) or 0)

    return main


def run_script(source: str, **options: Any) -> Callable[[ProcessContext], Program]:
    """A program that runs ``source`` as ``sh -c`` would."""
    return command_program(["sh", "-c", source], **options)
