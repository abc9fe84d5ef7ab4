from __future__ import annotations

import io
from pathlib import Path

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
