from __future__ import annotations

import io
from pathlib import Path

import pytest

from podlab.engine import cli
from podlab.engine.runtime import nginx_entrypoint
from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.process import FileSystemError

CONF = nginx_entrypoint.CONF


class ReadOnly(MemoryFileSystem):
    def write(self, path: str, data: str, *, append: bool = False) -> None:
        raise FileSystemError("EROFS", path)


def lines(fs) -> list[str]:
    return [line.split("info: ", 1)[1] for line in nginx_entrypoint.script_lines(fs)]


def test_the_script_reads_the_default_conf() -> None:
    fs = MemoryFileSystem()
    assert lines(fs) == [f"{CONF} is not a file or does not exist"]
    fs.mkdir("/etc/nginx/conf.d", parents=True)
    fs.write(CONF, nginx_entrypoint.PACKAGED_DEFAULT_CONF)
    assert lines(fs) == [f"Getting the checksum of {CONF}", f"Enabled listen on IPv6 in {CONF}"]
    fs.write(CONF, "server { listen 8080; }\n")
    assert lines(fs) == [f"Getting the checksum of {CONF}",
                         f"{CONF} differs from the packaged version"]
    fs.write(CONF, "server { listen 80; listen  [::]:80; }\n")
    assert lines(fs) == ["IPv6 listen already enabled"]
    ro = ReadOnly()
    MemoryFileSystem.mkdir(ro, "/etc/nginx/conf.d", parents=True)
    MemoryFileSystem.write(ro, CONF, "server {}\n")
    assert lines(ro) == [f"can not modify {CONF} (read-only file system?)"]


def test_a_config_map_on_conf_d_is_read_only(tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text("""apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data:
  default.conf: "server { listen 80; }"
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}]
  volumes: [{name: conf, configMap: {name: conf}}]
""")
    out, err = io.StringIO(), io.StringIO()
    assert cli.main([str(manifest), "--until", "20", "-o", "logs"], out, err,
                    stdin=io.StringIO("")) == 0, err.getvalue()
    assert (f"10-listen-on-ipv6-by-default.sh: info: can not modify {CONF} "
            "(read-only file system?)") in out.getvalue()
    assert "Enabled listen on IPv6" not in out.getvalue()


def _logs(tmp_path: Path, manifest: str, *extra: str) -> str:
    path = tmp_path / "pod.yaml"
    path.write_text(manifest)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main([str(path), "--until", "8", "-o", "logs", "-c", "nginx", *extra], out, err,
                    stdin=io.StringIO("")) == 0, err.getvalue()
    return out.getvalue()


def _pod(image: str, extra: str = "", spec: str = "") -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: web}}\nspec:\n{spec}"
            f"  containers:\n  - name: nginx\n    image: {image}\n{extra}")


ME = "/docker-entrypoint.sh"
HEAD = [f"{ME}: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        f"{ME}: Looking for shell scripts in /docker-entrypoint.d/",
        f"{ME}: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
        f"10-listen-on-ipv6-by-default.sh: info: Getting the checksum of {CONF}",
        f"10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in {CONF}"]
RESOLVERS = [f"{ME}: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh"]
ENVSUBST = [f"{ME}: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh"]
TUNE = [f"{ME}: Launching /docker-entrypoint.d/30-tune-worker-processes.sh"]
DONE = [f"{ME}: Configuration complete; ready for start up"]


@pytest.mark.parametrize(("image", "block", "notices"), [
    # no entrypoint before 1.19.0, and error_log at warn: kubectl logs is empty
    ("nginx:1.14.2", [], False),
    ("nginx:1.17", [], False),
    ("nginx:1.19.3", HEAD + ENVSUBST + DONE, False),
    ("nginx:1.18.0", HEAD + ENVSUBST + DONE, False),
    ("nginx:1.21", HEAD + ENVSUBST + TUNE + DONE, True),
    ("nginx:1.24-alpine", HEAD + ENVSUBST + TUNE + DONE, True),
    ("nginx:1.25.0", HEAD + ENVSUBST + TUNE + DONE, True),
    ("nginx:1.25.1", HEAD + RESOLVERS + ENVSUBST + TUNE + DONE, True),
    ("nginx:latest", HEAD + RESOLVERS + ENVSUBST + TUNE + DONE, True),
])
def test_each_release_prints_its_own_entrypoint_scripts(tmp_path: Path, image: str,
                                                        block: list[str], notices: bool) -> None:
    lines = _logs(tmp_path, _pod(image)).splitlines()
    assert [line for line in lines if "[notice]" not in line] == block
    assert any("[notice] 1#1: start worker processes" in line for line in lines) is notices


@pytest.mark.parametrize(("image", "signal"), [
    ("nginx:1.14.2", "SIGTERM"), ("nginx:1.19.4", "SIGTERM"), ("nginx:1.19.5", "SIGQUIT"),
    ("nginx:1.18.0", "SIGQUIT"), ("nginx:1.21", "SIGQUIT"), ("nginx:1.21-alpine", "SIGQUIT"),
    ("nginx:latest", "SIGQUIT"), ("nginx:stable-alpine", "SIGQUIT"),
])
def test_the_stop_signal_follows_the_release(image: str, signal: str) -> None:
    from podlab.engine.runtime import catalogue

    name, tag = image.split(":")
    resolved = catalogue.resolve(f"docker.io/library/{name}", tag)
    assert resolved is not None and resolved.stop_signal == signal


LIVENESS = ("    livenessProbe:\n      httpGet: {path: /, port: 8080}\n"
            "      periodSeconds: 2\n      failureThreshold: 1\n")


def test_a_kill_sends_sigquit_and_nginx_shuts_down_gracefully(tmp_path: Path) -> None:
    previous = _logs(tmp_path, _pod("nginx:1.21", LIVENESS), "--previous").splitlines()
    stop = [line.split("] ", 1)[1] for line in previous if "signal 3" in line or "29#29" in line
            or "exited with code" in line or line.endswith("1#1: exit")]
    assert stop == ["1#1: signal 3 (SIGQUIT) received, shutting down",
                    "29#29: gracefully shutting down", "29#29: exiting", "29#29: exit",
                    "1#1: worker process 29 exited with code 0", "1#1: exit"]


def test_an_old_release_stops_on_sigterm_without_a_word(tmp_path: Path) -> None:
    assert _logs(tmp_path, _pod("nginx:1.14.2", LIVENESS), "--previous") == ""


def test_a_command_naming_nginx_skips_the_entrypoint(tmp_path: Path) -> None:
    text = _logs(tmp_path, _pod("nginx:1.21", '    command: ["nginx", "-g", "daemon off;"]\n'))
    assert "docker-entrypoint" not in text and "start worker processes" in text


def test_an_empty_entrypoint_directory_and_quiet_logs(tmp_path: Path) -> None:
    mounted = ("    volumeMounts: [{name: empty, mountPath: /docker-entrypoint.d}]\n"
               "  volumes: [{name: empty, emptyDir: {}}]\n")
    lines = _logs(tmp_path, _pod("nginx:1.27", mounted)).splitlines()
    assert lines[0] == f"{ME}: No files found in /docker-entrypoint.d/, skipping configuration"
    assert "[notice]" in lines[1]
    quiet = _logs(tmp_path, _pod("nginx:1.27", "    env: [{name: NGINX_ENTRYPOINT_QUIET_LOGS, "
                                               "value: '1'}]\n"))
    assert "docker-entrypoint" not in quiet and "start worker processes" in quiet


def test_templates_are_substituted_into_conf_d() -> None:
    fs = MemoryFileSystem()
    fs.mkdir("/etc/nginx/templates/sub", parents=True)
    fs.mkdir("/etc/nginx/conf.d", parents=True)
    fs.write("/etc/nginx/templates/default.conf.template",
             "listen ${NGINX_PORT}; server_name $host; root $ROOT;\n")
    fs.write("/etc/nginx/templates/sub/extra.conf.template", "# $NGINX_PORT\n")
    fs.write("/etc/nginx/templates/notes.txt", "ignored\n")
    env = {"NGINX_PORT": "8080", "ROOT": "/srv"}
    assert nginx_entrypoint.envsubst_lines(fs, env) == [
        "20-envsubst-on-templates.sh: Running envsubst on "
        "/etc/nginx/templates/default.conf.template to /etc/nginx/conf.d/default.conf",
        "20-envsubst-on-templates.sh: Running envsubst on "
        "/etc/nginx/templates/sub/extra.conf.template to /etc/nginx/conf.d/sub/extra.conf"]
    assert fs.read("/etc/nginx/conf.d/default.conf") == (
        "listen 8080; server_name $host; root /srv;\n")
    assert fs.read("/etc/nginx/conf.d/sub/extra.conf") == "# 8080\n"
    assert nginx_entrypoint.envsubst_lines(MemoryFileSystem(), env) == []
    ro = ReadOnly()
    MemoryFileSystem.mkdir(ro, "/etc/nginx/templates", parents=True)
    MemoryFileSystem.mkdir(ro, "/etc/nginx/conf.d", parents=True)
    assert nginx_entrypoint.envsubst_lines(ro, {}) == [
        "20-envsubst-on-templates.sh: ERROR: /etc/nginx/templates exists, but "
        "/etc/nginx/conf.d is not writable"]


def test_the_error_log_level_filters_nginx_lines() -> None:
    fs = MemoryFileSystem()
    fs.mkdir("/etc/nginx", parents=True)
    lines = [["stderr", "{t:%Y/%m/%d %H:%M:%S} [notice] 1#1: start worker processes"],
             ["stderr", "2025/01/01 00:00:00 [emerg] 1#1: bind() failed"],
             ["stderr", "nginx: [emerg] still could not bind()"]]
    fs.write("/etc/nginx/nginx.conf", "error_log  /var/log/nginx/error.log notice;\n")
    assert nginx_entrypoint.filter_level(lines, fs) == lines
    fs.write("/etc/nginx/nginx.conf", "error_log  /var/log/nginx/error.log warn;\n")
    assert nginx_entrypoint.filter_level(lines, fs) == lines[1:]
    fs.write("/etc/nginx/nginx.conf", "events {}\n")  # no error_log: nginx's default, error
    assert nginx_entrypoint.error_log_level(fs) == "error"
    assert nginx_entrypoint.filter_level(lines, fs) == lines[1:]
