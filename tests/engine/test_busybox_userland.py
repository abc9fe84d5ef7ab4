"""The busybox userland: every applet by name and by its install path, as in the busybox
image (everything in /bin, plus busybox's install layout) and in Alpine (the layout only)."""

from __future__ import annotations

import json

import pytest

from podlab.engine.runtime import catalogue, images
from tests.engine.test_images import info_for, run

LAYOUT = json.loads((catalogue.DATA.parent / "busybox-layout.json").read_text())
ISSUE_APPLETS = ["echo", "printf", "test", "true", "false", "env", "kill", "wget", "nc", "id",
                 "date", "sleep"]


def _where(name: str) -> str:
    return next(d for d, names in LAYOUT.items() if d.startswith("/") and name in names)


@pytest.mark.parametrize("name", ISSUE_APPLETS)
def test_applets_are_where_busybox_installs_them(name: str) -> None:
    busybox = info_for("busybox:1.36")
    alpine = info_for("alpine:3.20")
    home = _where(name)
    assert f"{home}/{name}" in busybox.files and f"/bin/{name}" in busybox.files
    assert f"{home}/{name}" in alpine.files
    if home != "/bin":
        assert f"/bin/{name}" not in alpine.files  # Alpine links each applet once


@pytest.mark.parametrize(
    ("command", "output"),
    [
        (["/bin/echo", "hi"], "hi\n"),
        (["echo", "hi"], "hi\n"),
        (["/usr/bin/printf", "%s-%s\n", "a", "b"], "a-b\n"),
        (["/usr/bin/test", "1", "-eq", "1"], ""),
        (["/usr/bin/[", "a", "=", "a", "]"], ""),
        (["/bin/true"], ""),
        (["/usr/bin/env", "-i", "A=1"], "A=1\n"),
        (["/usr/bin/id", "-u"], "0\n"),
        (["/bin/sleep", "0"], ""),
        (["/bin/date", "+%Y"], "2025\n"),
        (["/usr/bin/env", "echo", "via env"], "via env\n"),
    ],
)
def test_applets_run_by_path_as_the_container_command(command: list[str], output: str) -> None:
    for image in ("busybox:1.36", "alpine:3.20"):
        if image.startswith("alpine") and command[0] == "/bin/env":
            continue
        result = run(image, command=command)
        assert result.exit_code == 0, (image, command, result.logs)
        assert result.stdout == output, (image, command)


def test_false_and_kill_by_path() -> None:
    assert run("busybox:1.36", command=["/bin/false"]).exit_code == 1
    result = run("busybox:1.36", command=["sh", "-c", "sleep 100 & /bin/kill $!; wait $!; echo $?"])
    assert result.stdout == "143\n"


def test_paths_a_real_image_does_not_have_are_not_found() -> None:
    result = run("alpine:3.20", command=["sh", "-c", "/bin/env; echo $?"])
    assert result.stdout == "127\n"
    assert "sh: /bin/env: not found" in result.stderr
    missing = images.resolve_executable(info_for("alpine:3.20"), ["/bin/wget"])
    assert missing == 'exec: "/bin/wget": stat /bin/wget: no such file or directory'


def test_debian_images_have_merged_usr() -> None:
    nginx = info_for("nginx:1.27")
    assert "/bin/cat" in nginx.files and "/usr/bin/cat" in nginx.files
