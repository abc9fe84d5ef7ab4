"""The busybox sh: parsing, expansion, control flow, redirections and applets."""

from __future__ import annotations

import pytest

from podlab.engine.runtime.fakeruntime import RunResult, run_program
from podlab.engine.runtime.filesystem import MemoryFileSystem
from podlab.engine.runtime.process import Request, Response
from podlab.engine.runtime.shell import (
    APPLETS,
    ShellSyntaxError,
    command_program,
    interp,
    parse,
    run_script,
)


def busybox_fs() -> MemoryFileSystem:
    files = {f"/bin/{name}": "" for name in APPLETS}
    files["/etc/hostname"] = "pod\n"
    return MemoryFileSystem(files, dirs=["/tmp", "/root"])


def sh(script: str, *, until: float = 3600.0, **kwargs: object) -> RunResult:
    kwargs.setdefault("fs", busybox_fs())
    return run_program(run_script(script), until=until, **kwargs)  # type: ignore[arg-type]


def out(script: str, **kwargs: object) -> str:
    return sh(script, **kwargs).stdout


# --- expansion and quoting ------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo 'single $HOME' \"double\" back\\ slash", "single $HOME double back slash\n"),
        ('x=world; echo "hello $x" ${x}s', "hello world worlds\n"),
        ("echo ${UNSET:-default} ${UNSET-dash} [${UNSET}]", "default dash []\n"),
        ("x=; echo ${x:-empty} [${x-set}] ${x:+alt} ${y+alt}.", "empty [] .\n"),
        ("echo ${z:=assigned} $z", "assigned assigned\n"),
        ("f=archive.tar.gz; echo ${f%.*} ${f%%.*} ${f#*.} ${f##*.} ${#f}",
         "archive.tar archive tar.gz gz 14\n"),
        ("echo $((1 + 2 * 3)) $(( (1+2)*3 )) $((7 / 2)) $((7 % 3)) $((-7 / 2))", "7 9 3 1 -3\n"),
        ("i=5; echo $((i + 1)) $((i > 3 && i < 10)) $((i++)) $i", "6 1 5 6\n"),
        ("echo $(echo sub) `echo back` \"$(echo 'q u')\"", "sub back q u\n"),
        ("echo \"$(echo a; echo b)\"", "a\nb\n"),
        ("false; echo $?; true; echo $?", "1\n0\n"),
        ("echo $$ $0", "1 sh\n"),
        ("set -- a 'b c' d; echo $#; for x in \"$@\"; do echo \"<$x>\"; done",
         "3\n<a>\n<b c>\n<d>\n"),
        ("v='a  b'; echo $v; echo \"$v\"", "a b\na  b\n"),
        ("IFS=:; v=a:b:c; for x in $v; do echo $x; done", "a\nb\nc\n"),
        ("echo \"\" | wc -l; set -- ''; echo $#", "1\n1\n"),
        ("echo a\\\nb", "ab\n"),
        ("echo \"tab\\there\" '\\n'", "tab\\there \\n\n"),
        ("touch /tmp/a.txt /tmp/b.txt /tmp/c.log; echo /tmp/*.txt; echo '/tmp/*.txt'",
         "/tmp/a.txt /tmp/b.txt\n/tmp/*.txt\n"),
        ("echo /nomatch/*", "/nomatch/*\n"),
        ("cat <<EOF\nline $((1+1))\n  indented\nEOF\necho after", "line 2\n  indented\nafter\n"),
        ("cat <<'EOF'\nraw $HOME\nEOF", "raw $HOME\n"),
    ],
)
def test_expansion(script: str, expected: str) -> None:
    assert out(script) == expected


def test_positional_parameters_of_sh_c() -> None:
    program = command_program(["sh", "-c", 'echo "$0 $1 $2 $#"', "name", "one", "two"])
    result = run_program(program, fs=busybox_fs())
    assert result.stdout == "name one two 2\n"


# --- control flow ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected", "code"),
    [
        ("echo a; echo b", "a\nb\n", 0),
        ("true && echo yes || echo no; false && echo yes || echo no", "yes\nno\n", 0),
        ("false || false; echo $?", "1\n", 0),
        ("! false && echo negated", "negated\n", 0),
        ("if false; then echo a; elif true; then echo b; else echo c; fi", "b\n", 0),
        ("if [ 1 -gt 2 ]\nthen\n  echo a\nelse\n  echo c\nfi", "c\n", 0),
        ("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done", "0\n1\n2\n", 0),
        ("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i", "2\n", 0),
        ("for x in a b c; do echo $x; done", "a\nb\nc\n", 0),
        ("for i in $(seq 1 5); do [ $i = 3 ] && continue; [ $i = 5 ] && break; echo $i; done",
         "1\n2\n4\n", 0),
        ("for i in 1 2; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; done",
         "1a\n2a\n", 0),
        ("case hello in h*) echo h;; *) echo other;; esac", "h\n", 0),
        ("case x.yaml in *.json|*.yaml) echo config;; esac", "config\n", 0),
        ("case '*' in '*') echo star;; *) echo any;; esac", "star\n", 0),
        ("{ echo one; echo two; } | wc -l", "2\n", 0),
        ("x=1; (x=2; echo $x; exit 4); echo $? $x", "2\n4 1\n", 0),
        ("greet() { echo \"hi $1\"; return 3; }; greet bob; echo $?", "hi bob\n3\n", 0),
        ("f() { local v=inner; echo $v; }; v=outer; f; echo $v", "inner\nouter\n", 0),
        ("exit 3", "", 3),
        ("exit", "", 0),
        ("false; exit", "", 1),
        ("exit 300", "", 44),
        ("echo before; exit 7; echo after", "before\n", 7),
        ("true; false", "", 1),
        ("eval 'echo evaluated; x=5'; echo $x", "evaluated\n5\n", 0),
    ],
)
def test_control_flow(script: str, expected: str, code: int) -> None:
    result = sh(script)
    assert result.stdout == expected
    assert result.exit_code == code


# --- redirections and pipes -----------------------------------------------------------


def test_redirections() -> None:
    f = busybox_fs()
    result = sh(
        "echo one > /tmp/f; echo two >> /tmp/f; cat < /tmp/f; "
        "ls /missing 2>/dev/null; echo status $?; "
        "ls /missing > /tmp/both 2>&1; cat /tmp/both; "
        "echo err 1>&2",
        fs=f,
    )
    assert result.stdout == (
        "one\ntwo\nstatus 1\nls: /missing: No such file or directory\n"
    )
    assert result.stderr == "err\n"
    assert f.read("/tmp/f") == "one\ntwo\n"


def test_redirection_errors() -> None:
    result = sh("echo x > /nodir/file; echo $?; cat < /nofile; echo $?")
    assert result.stdout == "1\n1\n"
    assert result.stderr == (
        "sh: can't create /nodir/file: nonexistent directory\n"
        "sh: can't open '/nofile': No such file or directory\n"
    )


def test_read_only_root_redirect() -> None:
    f = MemoryFileSystem({f"/bin/{n}": "" for n in APPLETS}, dirs=["/tmp"], read_only_root=True)
    result = sh("echo x > /tmp/out; touch /tmp/t", fs=f)
    assert result.stderr == (
        "sh: can't create /tmp/out: Read-only file system\n"
        "touch: /tmp/t: Read-only file system\n"
    )
    assert result.exit_code == 1


def test_pipes() -> None:
    assert out("echo x | cat") == "x\n"
    assert out("printf 'a\\nb\\nc\\n' | grep b") == "b\n"
    assert out("echo abc > /tmp/f; cat /tmp/f | grep -q b && echo found") == "found\n"
    assert out("seq 10 | tail -n 3 | head -n 1") == "8\n"
    assert out("yes | head -n 2") == "y\ny\n"
    assert out("echo hello | tr a-z A-Z") == "HELLO\n"
    assert out("echo 'a b' | { read x y; echo $y$x; }") == "ba\n"
    assert sh("echo x | false").exit_code == 1


# --- errors ---------------------------------------------------------------------------


def test_not_found() -> None:
    result = sh("nosuch arg; echo $?")
    assert result.stderr == "sh: nosuch: not found\n"
    assert result.stdout == "127\n"
    assert sh("nosuch").exit_code == 127
    assert sh("/bin/nosuch").stderr == "sh: /bin/nosuch: not found\n"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("if then", 'syntax error: unexpected "then"'),
        ("fi", 'syntax error: unexpected "fi"'),
        ("echo 'open", "syntax error: unterminated quoted string"),
        ('echo "open', "syntax error: unterminated quoted string"),
        ("if true; then echo", 'syntax error: unexpected end of file (expecting "fi")'),
        ("while true; do echo", 'syntax error: unexpected end of file (expecting "done")'),
        ("echo a |", "syntax error: unexpected end of file"),
        ("echo a && && b", 'syntax error: unexpected "&&"'),
        ("echo ${x", "syntax error: bad substitution"),
        ("( echo", 'syntax error: unexpected end of file (expecting ")")'),
        ("echo >", "syntax error: unexpected end of file"),
    ],
)
def test_syntax_errors(script: str, message: str) -> None:
    with pytest.raises(ShellSyntaxError) as info:
        parse(script)
    assert str(info.value) == message
    result = sh(script)
    assert result.exit_code == 2
    assert result.stderr == f"sh: {message}\n"


def test_arithmetic_errors_stop_the_script() -> None:
    result = sh("echo $((1 / 0)); echo never")
    assert result.exit_code == 2
    assert result.stderr == "sh: divide by zero\n"
    result = sh("echo ${x:?is required}; echo never")
    assert (result.exit_code, result.stderr) == (1, "sh: x: is required\n")


# --- applets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "seconds"),
    [("1", 1.0), ("0.5", 0.5), ("2s", 2.0), ("1m", 60.0), ("1h", 3600.0), ("1 2", 3.0),
     (".25", 0.25)],
)
def test_sleep_durations(args: str, seconds: float) -> None:
    result = sh(f"sleep {args}")
    assert result.exit_code == 0
    assert result.finished_at == pytest.approx(seconds, abs=0.002)


def test_sleep_infinity_and_errors() -> None:
    assert sh("sleep infinity", until=10_000).exit_code is None
    result = sh("sleep abc")
    assert (result.exit_code, result.stderr) == (1, "sleep: invalid number 'abc'\n")
    result = sh("sleep")
    assert result.exit_code == 1
    assert "Usage: sleep [N]..." in result.stderr


def test_echo_and_printf() -> None:
    assert out("echo -n a; echo b") == "ab\n"
    assert out("echo -e 'a\\tb\\nc'") == "a\tb\nc\n"
    assert out("echo 'a\\tb'") == "a\\tb\n"
    assert out("printf '%s-%d %%\\n' x 42") == "x-42 %\n"
    assert out("printf '%s\\n' a b c") == "a\nb\nc\n"
    assert out("printf '%5s|%-3d|\\n' ab 7") == "   ab|7  |\n"
    result = sh("printf '%d\\n' abc")
    assert (result.stdout, result.stderr, result.exit_code) == (
        "0\n", "printf: invalid number 'abc'\n", 1)


def test_file_applets() -> None:
    f = busybox_fs()
    result = sh(
        "mkdir -p /data/a/b && touch /data/a/b/f && ls /data/a/b; "
        "mkdir /data; echo $?; "
        "rm /data/a; echo $?; rm -r /data/a && ls /data; "
        "rm /nope; echo $?; rm -f /nope; echo $?; "
        "cat /nope; echo $?; "
        "cd /tmp && pwd && echo hi > rel && cat /tmp/rel; cd /nope; echo $?",
        fs=f,
    )
    assert result.stdout == "f\n1\n1\n1\n0\n1\n/tmp\nhi\n2\n"
    assert result.stderr == (
        "mkdir: can't create directory '/data': File exists\n"
        "rm: '/data/a' is a directory\n"
        "rm: can't remove '/nope': No such file or directory\n"
        "cat: can't open '/nope': No such file or directory\n"
        "sh: cd: can't cd to /nope: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ("-f /etc/hostname", 0), ("-f /tmp", 1), ("-d /tmp", 0), ("-e /nope", 1),
        ("-s /etc/hostname", 0), ("-s /tmp/empty", 1), ("-z ''", 0), ("-n ''", 1),
        ("abc = abc", 0), ("abc != abc", 1), ("3 -eq 3", 0), ("3 -ne 3", 1), ("2 -lt 3", 0),
        ("3 -gt 3", 1), ("3 -le 3", 0), ("2 -ge 3", 1), ("! -e /nope", 0), ("word", 0),
        ("-f /etc/hostname -a -d /tmp", 0), ("-f /nope -o -d /tmp", 0),
    ],
)
def test_test_builtin(expr: str, code: int) -> None:
    assert sh(f"touch /tmp/empty; test {expr}").exit_code == code
    assert sh(f"touch /tmp/empty; [ {expr} ]").exit_code == code


def test_test_errors() -> None:
    result = sh("[ 1 -eq 1")
    assert (result.exit_code, result.stderr) == (2, "sh: missing ]\n")
    result = sh("[ a -eq 1 ]")
    assert (result.exit_code, result.stderr) == (2, "sh: invalid number 'a'\n")


def test_text_applets() -> None:
    script = (
        "printf 'one\\ntwo\\nthree\\nfour\\n' > /tmp/f; "
        "head -n 2 /tmp/f; tail -n 1 /tmp/f; wc -l /tmp/f; wc -l < /tmp/f; "
        "grep -c o /tmp/f; grep -v o /tmp/f; grep -q zzz /tmp/f; echo $?; "
        "grep 't.o' /tmp/f; grep -i ONE /tmp/f; grep x /nope; echo $?"
    )
    result = sh(script)
    assert result.stdout == (
        "one\ntwo\nfour\n4 /tmp/f\n4\n3\nthree\n1\ntwo\none\n2\n"
    )
    assert result.stderr == "grep: can't open '/nope': No such file or directory\n"


def test_misc_applets() -> None:
    assert out("seq 3") == "1\n2\n3\n"
    assert out("seq 2 2 6") == "2\n4\n6\n"
    assert out("expr 2 + 3; expr 7 / 2; expr 3 \\* 4") == "5\n3\n12\n"
    assert sh("expr 1 - 1").exit_code == 1
    assert out("echo data | tee /tmp/t; cat /tmp/t") == "data\ndata\n"
    assert out("hostname", hostname="web-1") == "web-1\n"
    assert out("id; whoami") == "uid=0(root) gid=0(root) groups=0(root),10(wheel)\nroot\n"
    assert out("basename /a/b/c.txt .txt; dirname /a/b/c.txt") == "c\n/a/b\n"
    assert out("echo a:b:c | cut -d: -f2") == "b\n"
    assert out("printf 'b\\na\\nb\\n' | sort | uniq") == "a\nb\n"


def test_env_export_unset_read() -> None:
    result = sh(
        "export GREETING=hi; LOCAL=no; env | grep -E '^(GREETING|LOCAL|FROM_POD)='; "
        "unset GREETING; echo [$GREETING]; "
        "printf 'first line\\nsecond\\n' > /tmp/in; read a b < /tmp/in; echo $b-$a; "
        "while read line; do echo \"got $line\"; done < /tmp/in; "
        "X=inline env | grep X=",
        env={"FROM_POD": "yes"},
    )
    assert result.stdout == (
        "FROM_POD=yes\nGREETING=hi\n[]\nline-first\ngot first line\ngot second\nX=inline\n"
    )


def test_date_uses_the_simulated_clock() -> None:
    assert out("sleep 5; date") == "Wed Jan  1 00:00:05 UTC 2025\n"
    assert out("sleep 3661; date +%H:%M:%S", until=4000) == "01:01:01\n"
    assert out("date +%s") == "1735689600\n"


# --- network --------------------------------------------------------------------------


def http_server(status: int, body: str, delay: float = 0.0) -> object:
    def handler(request: Request, now: float) -> Response:
        if request.kind == "tcp":
            return Response(status=0)
        if request.path == "/moved":
            return Response(302, "", (("Location", "/"),))
        return Response(status, f"{body} {request.path}", delay=delay)

    return handler


def test_wget_to_a_listener() -> None:
    listeners = {(8080, "tcp"): http_server(200, "hello")}
    result = sh("wget -q -O- http://localhost:8080/x; echo; wget -qO- 127.0.0.1:8080/moved",
                listeners=listeners)
    assert result.stdout == "hello /x\nhello /"
    result = sh("wget -O /tmp/page http://10.244.0.5:8080/ && cat /tmp/page",
                listeners=listeners, pod_ip="10.244.0.5")
    assert result.stdout == "hello /"
    assert result.stderr.startswith("Connecting to 10.244.0.5:8080 (10.244.0.5:8080)\n")
    result = sh("wget --spider -q http://localhost:8080/; echo $?", listeners=listeners)
    assert result.stdout == "0\n"


def test_wget_errors() -> None:
    result = sh("wget -q -O- http://localhost:8080/")
    assert result.exit_code == 1
    assert result.stderr == "wget: can't connect to remote host (127.0.0.1): Connection refused\n"
    result = sh("wget -q -O- http://localhost/", listeners={(80, "tcp"): http_server(500, "x")})
    assert result.exit_code == 1
    assert result.stderr == "wget: server returned error: HTTP/1.1 500 Internal Server Error\n"
    result = sh("wget -q -T 1 -O- http://localhost/",
                listeners={(80, "tcp"): http_server(200, "slow", delay=5.0)})
    assert (result.exit_code, result.stderr) == (1, "wget: download timed out\n")
    assert result.finished_at == pytest.approx(1.0, abs=0.01)
    result = sh("wget -q -O- http://example.com/")
    assert result.stderr == "wget: bad address 'example.com'\n"


def test_nc() -> None:
    listeners = {(6379, "tcp"): http_server(200, "")}
    assert sh("nc -z localhost 6379", listeners=listeners).exit_code == 0
    assert sh("nc -z localhost 6380").exit_code == 1
    result = sh("nc -l -p 9000 & sleep 1; nc -z 127.0.0.1 9000; echo $?; kill %1")
    assert result.stdout == "0\n"


# --- CPU accounting -------------------------------------------------------------------


def test_a_loop_that_changes_nothing_burns_cpu_until_killed() -> None:
    # No step limit stops it, as no kernel would: it spins, one CPU's worth per second.
    result = sh("while true; do :; done", until=7200)
    assert result.exit_code is None and result.stderr == ""
    assert 7199 < result.cpu_seconds <= 7200.5
    # ... but a change another process makes (here a background job) is still seen
    result = sh("(sleep 30; touch /tmp/go) & while [ ! -f /tmp/go ]; do :; done; echo seen",
                until=100)
    assert result.stdout == "seen\n"
    assert result.finished_at is not None and 30 <= result.finished_at <= 32.5  # within a spin


def test_busy_loop_advances_simulated_time() -> None:
    result = sh("i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done; echo $i")
    assert result.stdout == "1000\n"
    assert result.finished_at is not None and result.finished_at > 1.0
    assert result.cpu_seconds > 1.0


def test_step_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interp, "MAX_STEPS", 5000)
    # a loop the interpreter runs step by step (i*1+1 is not a counting loop's constant step)
    result = sh("i=0; while true; do i=$((i*1+1)); done", until=1_000_000)
    assert result.exit_code == 1
    assert result.stderr == (
        "sh: stopped after 5000 commands without a pause (PodLab's step limit)\n"
    )
    assert result.finished_at is not None and result.finished_at > 4.0
    # a loop that sleeps is not stopped however long it runs
    result = sh("i=0; while [ $i -lt 3000 ]; do i=$((i+1)); sleep 1; done; echo $i",
                until=1_000_000)
    assert (result.exit_code, result.stdout) == (0, "3000\n")


def test_runaway_recursion_is_stopped() -> None:
    result = sh("f() { f; }; f")
    assert result.exit_code == 2
    assert result.stderr == "sh: f: function nesting too deep\n"


def test_errexit() -> None:
    result = sh("set -e; echo a; false; echo b")
    assert (result.exit_code, result.stdout) == (1, "a\n")
    script = (
        "set -e; if false; then :; fi; false || true; ! true; x=1 && false && true; "
        "while false; do :; done; echo ok; (exit 3); echo no"
    )
    result = sh(script)
    assert (result.exit_code, result.stdout) == (3, "ok\n")
    program = command_program(["sh", "-ec", "echo one; nosuch; echo two"])
    result = run_program(program, fs=busybox_fs())
    assert (result.exit_code, result.stdout) == (127, "one\n")
    assert sh("set -e; set +e; false; echo still").stdout == "still\n"


def test_sed() -> None:
    assert out("echo hello world | sed 's/o/0/g'") == "hell0 w0rld\n"
    assert out("printf 'a\\nb\\nc\\n' | sed -n '2p'") == "b\n"
    assert out("printf 'a\\nb\\n' | sed '/a/d'") == "b\n"
    assert out("echo abc | sed -e 's/\\(b\\)/[\\1]/' -e 's/a/&&/'") == "aa[b]c\n"
    assert out("echo x > /tmp/f; sed -i 's/x/y/' /tmp/f; cat /tmp/f") == "y\n"
    result = sh("echo a | sed 'q'")
    assert (result.exit_code, result.stderr) == (1, "sed: unknown command: 'q'\n")


def test_curl() -> None:
    listeners = {(8080, "tcp"): http_server(200, "hi")}
    assert out("curl -s http://localhost:8080/a", listeners=listeners) == "hi /a"
    result = sh("curl -sf localhost:8080/", listeners={(8080, "tcp"): http_server(500, "x")})
    assert (result.exit_code, result.stderr) == (22, "")
    result = sh("curl localhost:9/")
    assert result.exit_code == 7
    assert result.stderr == (
        "curl: (7) Failed to connect to localhost port 9 after 0 ms: Couldn't connect to server\n"
    )
    assert sh("curl -s nowhere.example/").exit_code == 6


def test_a_string_past_the_materialised_bound_is_hollow() -> None:
    small = interp._joined(["ab", "cd"], 4)  # noqa: SLF001 - the helper itself
    assert (small, type(small)) == ("abcd", str)
    half = "x" * (interp.MAX_MATERIALISED // 2 + 1)
    big = interp._joined([half, half], 2 * len(half))  # noqa: SLF001
    assert type(big) is interp.Hollow and len(big) == interp.HOLLOW_KEPT
    assert interp.size_of(big) == 2 * len(half)
    # a hollow piece keeps the result hollow, whatever its size
    again = interp._joined([big, "y"], interp.size_of(big) + 1)  # noqa: SLF001
    assert interp.size_of(again) == 2 * len(half) + 1 and len(again) == interp.HOLLOW_KEPT


def test_no_string_past_the_materialised_bound_is_ever_built() -> None:
    # even with nothing to say how much memory there is, the shell is killed (137)
    # before it builds a string over MAX_MATERIALISED
    result = sh("x=x; while true; do x=$x$x; done; echo never", until=100)
    assert (result.exit_code, result.stdout) == (137, "")
    assert result.finished_at is not None and result.finished_at < 1


def test_a_script_text_is_parsed_once_into_a_frozen_tree() -> None:
    import dataclasses

    from podlab.engine.runtime.shell import parser

    text = "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"
    tree = parser.parse(text)
    assert parser.parse(text) is tree  # shared, not parsed again
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.items = []  # type: ignore[misc, union-attr]
    with pytest.raises(parser.ShellSyntaxError):
        parser.parse("if true; then")  # errors are raised every time, not kept
    with pytest.raises(parser.ShellSyntaxError):
        parser.parse("if true; then")
    long = "echo " + "x" * parser.CACHED_SOURCE
    assert parser.parse(long) is not parser.parse(long)  # long scripts are not kept
