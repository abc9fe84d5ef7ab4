"""What the nginx image prints before nginx starts, and which of nginx's own lines it logs.

**The entrypoint** (docker-library/nginx, ``entrypoint/docker-entrypoint.sh``, in the image
since 1.19.0): when the command is ``nginx`` or ``nginx-debug`` it lists
``/docker-entrypoint.d/``. An empty directory gives "No files found in /docker-entrypoint.d/,
skipping configuration"; otherwise it says it will configure, then takes the files in version
order (``sort -V``): a ``*.envsh`` is sourced ("Sourcing"), a ``*.sh`` is run ("Launching"),
anything else is ignored ("Ignoring"), and it ends with "Configuration complete; ready for
start up". ``NGINX_ENTRYPOINT_QUIET_LOGS`` set to anything silences all of it. Which scripts
an image holds depends on its release (``eras`` in ``data/images.json``): none before 1.19.0,
``10-listen-on-ipv6-by-default.sh`` and ``20-envsubst-on-templates.sh`` from 1.19.0,
``30-tune-worker-processes.sh`` from 1.19.7, ``15-local-resolvers.envsh`` from 1.25.1.

The scripts, read from the container's files as they would be:

* ``10-listen-on-ipv6-by-default.sh`` checks ``/etc/nginx/conf.d/default.conf``: missing ("is
  not a file or does not exist"), not writable ("can not modify ... (read-only file system?)",
  what a ConfigMap mounted on ``/etc/nginx/conf.d`` gives), IPv6 already enabled, then the
  checksum against the packaged file ("Getting the checksum of ...", then "... differs from the
  packaged version" or "Enabled listen on IPv6 in ...").
* ``20-envsubst-on-templates.sh`` does nothing without ``/etc/nginx/templates``; with it, an
  unwritable ``/etc/nginx/conf.d`` is an "ERROR: ... exists, but ... is not writable", else each
  ``*.template`` becomes the file of the same name without the suffix, with the defined
  environment variables substituted ("Running envsubst on ... to ...").
* ``15-local-resolvers.envsh`` and ``30-tune-worker-processes.sh`` print nothing unless their
  opt-in variables are set.

**The error log level**: nginx writes to its error log (stderr in the image) only the lines at
or above the level of ``error_log`` in ``/etc/nginx/nginx.conf``. The image's file said
``warn`` up to 1.19.6 and ``notice`` since 1.19.7, so an old image prints none of the
``[notice]`` start and shutdown lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

SCRIPT = "10-listen-on-ipv6-by-default.sh"
ENVSUBST = "20-envsubst-on-templates.sh"
CONF = "/etc/nginx/conf.d/default.conf"
ENTRYPOINT = "/docker-entrypoint.sh"
SCRIPTS_DIR = "/docker-entrypoint.d/"
NGINX_CONF = "/etc/nginx/nginx.conf"

#: The image's own default.conf (a shortened copy; the checksum test compares with it).
PACKAGED_DEFAULT_CONF = (
    "server {\n    listen       80;\n    server_name  localhost;\n"
    "    location / {\n        root   /usr/share/nginx/html;\n"
    "        index  index.html index.htm;\n    }\n}\n"
)

#: nginx's error log levels, least severe first (``ngx_log.c``)
LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")
_LEVEL_OF_LINE = re.compile(r"^(?:\{t:[^}]*\}|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(\w+)\] ")
_ERROR_LOG = re.compile(r"^\s*error_log\s+(\S+)(?:\s+(\w+))?\s*;", re.MULTILINE)
_BLOCK_LINE = re.compile(r"^(?:/docker-entrypoint\.sh: |\d\d-[\w.-]+\.(?:sh|envsh): )")


def script_lines(fs: Any) -> list[str]:
    """``10-listen-on-ipv6-by-default.sh``'s output lines for the container's file system."""
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


def _writable_dir(fs: Any, path: str) -> bool:
    probe = path.rstrip("/") + "/.podlab-write-test"
    try:
        if not fs.is_dir(path):
            return False
        fs.write(probe, "")
        fs.remove(probe)
    except Exception:  # noqa: BLE001 - EROFS and friends: not writable
        return False
    return True


def _substitute(text: str, env: Mapping[str, str]) -> str:
    """``envsubst`` limited to the defined variables: ``$NAME`` and ``${NAME}`` of a variable
    that is set are replaced, every other ``$`` stays (nginx's own ``$host`` survives)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env[name] if name in env else match.group(0)

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, text)


def _templates(fs: Any, root: str) -> list[str]:
    found: list[str] = []
    try:
        names = fs.listdir(root)
    except Exception:  # noqa: BLE001 - a directory that cannot be read holds nothing
        return found
    for name in names:
        path = root.rstrip("/") + "/" + name
        if fs.is_dir(path):
            found += _templates(fs, path)
        else:
            found.append(path)
    return found


def envsubst_lines(fs: Any, env: Mapping[str, str]) -> list[str]:
    """``20-envsubst-on-templates.sh``: its lines, and the files it writes."""
    template_dir = env.get("NGINX_ENVSUBST_TEMPLATE_DIR") or "/etc/nginx/templates"
    suffix = env.get("NGINX_ENVSUBST_TEMPLATE_SUFFIX") or ".template"
    output_dir = env.get("NGINX_ENVSUBST_OUTPUT_DIR") or "/etc/nginx/conf.d"
    if not fs.is_dir(template_dir):
        return []
    if not _writable_dir(fs, output_dir):
        return [f"{ENVSUBST}: ERROR: {template_dir} exists, but {output_dir} is not writable"]
    lines: list[str] = []
    for template in _templates(fs, template_dir):
        if not template.endswith(suffix):
            continue
        relative = template[len(template_dir.rstrip("/")) + 1 :]
        output = f"{output_dir}/{relative[: -len(suffix)]}"
        lines.append(f"{ENVSUBST}: Running envsubst on {template} to {output}")
        try:
            subdir = output.rsplit("/", 1)[0]
            if not fs.is_dir(subdir):
                fs.mkdir(subdir, parents=True)
            fs.write(output, _substitute(fs.read(template), env))
        except Exception:  # noqa: BLE001, S112 - the script goes on with the next template
            continue
    return lines


def _version_key(name: str) -> list[tuple[int, str]]:
    """``sort -V``: digit runs compare as numbers, the rest as text."""
    return [(int(part), "") if part.isdigit() else (-1, part)
            for part in re.findall(r"\d+|\D+", name)]


def entrypoint_lines(fs: Any, argv: Sequence[str], env: Mapping[str, str]) -> list[str] | None:
    """What ``/docker-entrypoint.sh`` prints before it execs the command; None when the
    container's command does not go through it (a ``command:`` that names nginx itself, or an
    image from before 1.19.0, which has no entrypoint)."""
    if not argv or argv[0].rsplit("/", 1)[-1] != ENTRYPOINT[1:]:
        return None
    command = argv[1].rsplit("/", 1)[-1] if len(argv) > 1 else ""
    if command not in ("nginx", "nginx-debug"):
        return []
    me = argv[0]
    try:
        names = [n for n in fs.listdir(SCRIPTS_DIR)
                 if not fs.is_dir(SCRIPTS_DIR + n)]
    except Exception:  # noqa: BLE001 - no directory: find prints nothing
        names = []
    if not names:
        lines = [f"{me}: No files found in {SCRIPTS_DIR}, skipping configuration"]
    else:
        lines = [f"{me}: {SCRIPTS_DIR} is not empty, will attempt to perform configuration",
                 f"{me}: Looking for shell scripts in {SCRIPTS_DIR}"]
        for name in sorted(names, key=_version_key):
            path = SCRIPTS_DIR + name
            if name.endswith(".envsh"):
                lines.append(f"{me}: Sourcing {path}")
            elif name.endswith(".sh"):
                lines.append(f"{me}: Launching {path}")
                if name == SCRIPT:
                    lines += script_lines(fs)
                elif name == ENVSUBST:
                    lines += envsubst_lines(fs, env)
            else:
                lines.append(f"{me}: Ignoring {path}")
        lines.append(f"{me}: Configuration complete; ready for start up")
    if env.get("NGINX_ENTRYPOINT_QUIET_LOGS"):
        return []
    return lines


def adjust(start_log: list[list[Any]], ctx: Any) -> list[list[Any]]:
    """``start_log`` with the entrypoint's block (the lines of ``/docker-entrypoint.sh`` and
    its scripts) as this container's command, files and environment make it."""
    # a line is [stream, text] or [stream, text, options]
    index = [i for i, line in enumerate(start_log) if _BLOCK_LINE.match(str(line[1]))]
    fs = getattr(ctx, "fs", None)
    if not index or fs is None:
        return start_log
    computed = entrypoint_lines(fs, list(getattr(ctx, "argv", []) or []),
                                dict(getattr(ctx, "env", {}) or {})) or []
    stream = start_log[index[0]][0]
    escaped = [[stream, line.replace("{", "{{").replace("}", "}}")] for line in computed]
    return [*start_log[: index[0]], *escaped, *start_log[index[-1] + 1 :]]


def error_log_level(fs: Any, conf: str = NGINX_CONF) -> str:
    """The level of the first ``error_log`` in nginx.conf (nginx's default: ``error``)."""
    try:
        found = _ERROR_LOG.search(fs.read(conf))
    except Exception:  # noqa: BLE001 - no file: nginx would not start; keep every line
        return LEVELS[0]
    if found is None:
        return "error"
    level = (found.group(2) or "error").lower()
    return level if level in LEVELS else "error"


def filter_level(lines: list[list[Any]], fs: Any, conf: str = NGINX_CONF
                 ) -> list[list[Any]]:
    """Only the log lines nginx writes at the configured error log level (lines that carry
    no level, like ``nginx: [emerg]`` on stderr, always pass)."""
    if fs is None:
        return lines
    floor = LEVELS.index(error_log_level(fs, conf))
    kept = []
    for line in lines:
        found = _LEVEL_OF_LINE.match(str(line[1]))
        if found and found.group(1) in LEVELS and LEVELS.index(found.group(1)) < floor:
            continue
        kept.append(line)
    return kept


__all__ = ["CONF", "PACKAGED_DEFAULT_CONF", "adjust", "entrypoint_lines", "envsubst_lines",
           "error_log_level", "filter_level", "script_lines"]
