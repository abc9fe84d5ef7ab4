"""The generic pieces of server entries: parameters, expressions and conditions."""

from __future__ import annotations

import pytest

from podlab.engine.runtime import behaviours
from podlab.engine.runtime.behaviours import ParamError, holds, number, parse_params

ENTRY = {
    "params": {
        "port": {"flag": "http-port", "type": "int", "default": 8080},
        "vm": {"flag": ["vm", "m"], "type": "count", "default": 0},
        "size": {"flag": "vm-bytes", "type": "bytes", "default": 0},
        "wait": {"env": "START_DELAY", "type": "seconds", "default": None, "want": "want seconds"},
        "urls": {"flag": "listen-client-urls", "type": "url_ports", "default_port": 2379,
                 "default": [2379]},
        "lines": {"positional": 0, "type": "count", "default": 100},
    },
    "invalid_param": {"log": [["stderr", "bad {name} {raw}: {want}"]], "exit": 2},
}


def test_flags_environment_and_positional_arguments() -> None:
    params = parse_params(ENTRY, ["--http-port=81", "-m", "2", "--vm-bytes", "150M", "7",
                                  "--listen-client-urls", "http://a:1,https://b,http://c:1"],
                          {"START_DELAY": "500ms"})
    assert params["port"] == 81
    assert params["vm"] == 2
    assert params["size"] == 150 * 1024 * 1024
    assert params["wait"] == 0.5
    assert params["urls"] == [1, 2379]
    assert params["lines"] == 7
    assert params["raw:size"] == "150M"
    defaults = parse_params(ENTRY, [], {})
    assert (defaults["port"], defaults["wait"], defaults["lines"]) == (8080, None, 100)


def test_a_value_that_does_not_parse_is_refused_with_the_programs_text() -> None:
    with pytest.raises(ParamError) as refused:
        parse_params(ENTRY, [], {"START_DELAY": "soon"})
    assert refused.value.exit_code == 2
    assert refused.value.values["name"] == "START_DELAY"
    assert refused.value.values["raw"] == "soon"
    with pytest.raises(ParamError):
        parse_params(ENTRY, ["--http-port", "x"], {})


def test_strict_options_refuse_what_they_do_not_know() -> None:
    entry = {**ENTRY, "options": {"strict": True, "switches": ["v"],
                                  "unknown": [["stderr", "no {option}"]], "unknown_exit": 1}}
    assert parse_params(entry, ["-v", "--vm", "1"], {})["vm"] == 1
    with pytest.raises(ParamError) as refused:
        parse_params(entry, ["--nope"], {})
    assert refused.value.values == {"option": "--nope"}


def test_expressions_and_null_parameters() -> None:
    params = {"vm": 2, "size": 10, "unset": None}
    assert number("$vm * $size + 5", params) == 25
    assert number("$vm - 1", params) == 1
    assert number("$unset * 2", params) is None
    assert number(3, params) == 3.0
    with pytest.raises(ValueError, match="bad expression"):
        number("$vm ^ 2", params)


def test_conditions() -> None:
    params = {"healthy_for": 10.0, "never": None, "delay": -1}
    state = {"stopping": True}
    assert holds({"uptime_at_least": "$healthy_for"}, params=params, uptime=10, state={})
    assert not holds({"uptime_over": "$healthy_for"}, params=params, uptime=10, state={})
    assert not holds({"uptime_at_least": "$never"}, params=params, uptime=1e9, state={})
    assert holds({"state": "stopping"}, params=params, uptime=0, state=state)
    assert not holds({"at_least": ["$delay", 0]}, params=params, uptime=0, state={})
    assert holds({"service_not_in": ["", "x"]}, params=params, uptime=0, state={},
                 service="y")
    assert holds({"path_prefix": "http://"}, params=params, uptime=0, state={},
                 path="http://example.com/")
    with pytest.raises(ValueError, match="unknown condition"):
        holds({"nonsense": 1}, params=params, uptime=0, state={})


def test_every_server_entry_uses_only_known_keys() -> None:
    from podlab.engine.runtime import servers

    known = {
        "executables", "entry", "files", "text_files", "tools", "version_flags", "exits",
        "requires_env", "requires_flags", "params", "options", "invalid_param", "start_log",
        "start_seconds", "ready_log", "listen", "listen_at_start", "bind_error", "bind_retries",
        "port_flag", "http", "not_ready", "http_files", "access_log", "on_http", "grpc", "state",
        "memory", "memory_mib", "cpu", "tick", "log_lines", "ends", "stop", "also_stop",
        "stops", "reload", "after_stop_log", "go_signals", "subcommands", "no_subcommand",
        "unknown_subcommand", "error_log_level_from",
    }
    for name, entry in servers.families().items():
        entries = [entry, *(entry.get("subcommands") or {}).values()]
        for one in entries:
            assert set(one) <= known, (name, set(one) - known)
    assert behaviours.fmt(1.5) == "1.5"
