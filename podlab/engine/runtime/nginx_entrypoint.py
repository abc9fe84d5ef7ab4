"""What the nginx image's ``10-listen-on-ipv6-by-default.sh`` prints, read from the container's
files (docker-library/nginx, ``entrypoint/10-listen-on-ipv6-by-default.sh``).

The script checks ``/etc/nginx/conf.d/default.conf`` in this order: missing ("is not a file or
does not exist"), not writable ("can not modify ... (read-only file system?)", which is what a
ConfigMap mounted on ``/etc/nginx/conf.d`` gives), IPv6 already enabled, then it compares the
file's checksum with the packaged one ("Getting the checksum of ...", then either "... differs
from the packaged version" or "Enabled listen on IPv6 in ...").
"""

from __future__ import annotations

from typing import Any

SCRIPT = "10-listen-on-ipv6-by-default.sh"
CONF = "/etc/nginx/conf.d/default.conf"

#: The image's own default.conf (a shortened copy; the checksum test compares with it).
PACKAGED_DEFAULT_CONF = (
    "server {\n    listen       80;\n    server_name  localhost;\n"
    "    location / {\n        root   /usr/share/nginx/html;\n"
    "        index  index.html index.htm;\n    }\n}\n"
)


def script_lines(fs: Any) -> list[str]:
    """The script's output lines for the container's file system."""
    try:
        if not fs.exists(CONF) or fs.is_dir(CONF):
            return [f"{SCRIPT}: info: {CONF} is not a file or does not exist"]
        content = fs.read(CONF)
    except Exception:  # noqa: BLE001 - unreadable is as good as missing for the script
        return [f"{SCRIPT}: info: {CONF} is not a file or does not exist"]
    try:
        fs.write(CONF, content)  # touch: the same bytes, only to see whether it may be written
    except Exception:  # noqa: BLE001 - EROFS, EACCES
        return [f"{SCRIPT}: info: can not modify {CONF} (read-only file system?)"]
    if "listen  [::]:80;" in content:
        return [f"{SCRIPT}: info: IPv6 listen already enabled"]
    lines = [f"{SCRIPT}: info: Getting the checksum of {CONF}"]
    if content != PACKAGED_DEFAULT_CONF:
        return [*lines, f"{SCRIPT}: info: {CONF} differs from the packaged version"]
    return [*lines, f"{SCRIPT}: info: Enabled listen on IPv6 in {CONF}"]


def adjust(start_log: list[list[Any]], fs: Any) -> list[list[Any]]:
    """``start_log`` with the IPv6 script's lines as this file system makes them."""
    # a line is [stream, text] or [stream, text, options]
    index = [i for i, line in enumerate(start_log) if str(line[1]).startswith(SCRIPT + ":")]
    if not index or fs is None:
        return start_log
    stream = start_log[index[0]][0]
    computed = [[stream, line.replace("{", "{{").replace("}", "}}")] for line in script_lines(fs)]
    return [*start_log[: index[0]], *computed, *start_log[index[-1] + 1 :]]
