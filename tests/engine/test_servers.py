"""Server images described as data (data/servers.json): start-up, required settings, ports,
probe answers, signals and exit codes."""

from __future__ import annotations

import pytest

from podlab.engine.apiserver.defaults import apply_defaults
from podlab.engine.runtime import servers
from podlab.engine.runtime.fakeruntime import http_get
from podlab.engine.runtime.process import SIGHUP, SIGINT, SIGTERM, Request
from podlab.engine.runtime.runtime import log_entry_text
from podlab.engine.simulation import Simulation
from tests.engine.test_images import run, statuses


def test_mysql_without_a_password_exits_1_with_the_entrypoint_error() -> None:
    result = run("mysql:8.0")
    assert result.exit_code == 1 and result.finished_at == 0
    assert "[ERROR] [Entrypoint]: Database is uninitialized and password option is not " \
        "specified" in result.logs
    assert "    - MYSQL_RANDOM_ROOT_PASSWORD\n" in result.logs
    assert "MySQL Server 8.0.43-1.el9 started." in result.logs


def test_mysql_with_a_password_listens_after_initialising() -> None:
    result = run("mysql:8.4", env={"MYSQL_ROOT_PASSWORD": "s3cret"}, until=30,
                 probes=[(5.0, Request("tcp", 3306)), (20.0, Request("tcp", 3306)),
                         (21.0, Request("tcp", 33060))],
                 signals=[(25.0, SIGTERM)])
    assert [r.status for _, _, r in result.probes][1:] == [0, 0]
    assert result.probes[0][2].refused or result.probes[0][2].status != 0
    assert "ready for connections. Version: '8.4.6'" in result.logs
    assert result.exit_code == 0
    assert "Shutdown complete (mysqld 8.4.6)" in result.logs


def test_postgres_needs_a_password() -> None:
    result = run("postgres:14-alpine")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: Database is uninitialized and superuser password is not specified.\n")
    ok = run("postgres:14-alpine", env={"POSTGRES_PASSWORD": "x"}, until=20,
             probes=[(10.0, Request("tcp", 5432))], signals=[(15.0, SIGINT)])
    assert ok.probes[0][2].status == 0
    assert "starting PostgreSQL 14.19" in ok.logs
    assert "received fast shutdown request" in ok.logs and ok.exit_code == 0


def test_prometheus_is_healthy_before_it_is_ready() -> None:
    result = run("prom/prometheus:v2.45.0", until=10,
                 probes=[(0.5, http_get(9090, "/-/ready")), (0.5, http_get(9090, "/-/healthy")),
                         (3.0, http_get(9090, "/-/ready"))],
                 signals=[(5.0, SIGTERM)])
    assert statuses(result) == [(0.5, 503), (0.5, 200), (3.0, 200)]
    assert result.probes[2][2].body == "Prometheus Server is Ready.\n"
    assert 'msg="Received SIGTERM, exiting gracefully..."' in result.logs
    assert result.exit_code == 0


@pytest.mark.parametrize(("pid1", "code"), [(True, 2), (False, None)])
def test_node_exporter_is_a_go_program_without_signal_handling(pid1: bool, code: int | None
                                                                ) -> None:
    result = run("prom/node-exporter:v1.3.1", until=10, is_pid1=pid1,
                 probes=[(1.0, http_get(9100, "/metrics"))], signals=[(5.0, SIGTERM)])
    assert statuses(result) == [(1.0, 200)]
    if code is None:
        assert result.exit_code in (143, None) or result.exit_code >= 128
    else:
        assert result.exit_code == code


def test_php_cli_image_exits_at_once_without_a_terminal() -> None:
    result = run("php:7.4")
    assert result.exit_code == 0 and result.stdout == "Interactive shell\n\n"


def test_php_fpm_listens_on_9000_and_stops_on_sigterm() -> None:
    result = run("php:7.4-fpm", until=5, probes=[(1.0, Request("tcp", 9000))],
                 signals=[(2.0, SIGTERM)])
    assert result.probes[0][2].status == 0
    assert "NOTICE: ready to handle connections" in result.logs
    assert result.exit_code == 0 and "exiting, bye-bye!" in result.logs


def test_kube_apiserver_without_service_account_flags_exits_1() -> None:
    result = run("k8s.gcr.io/kube-apiserver:v1.24.0",
                 command=["kube-apiserver", "--advertise-address=192.168.1.100",
                          "--etcd-servers=https://192.168.1.100:2379"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].endswith(
        'run.go:74] "command failed" err="[service-account-issuer is a required flag, '
        '--service-account-signing-key-file and --service-account-issuer are required flags]"')


def test_fluentd_runs_as_its_user_and_stops_gracefully() -> None:
    result = run("fluentd:latest", until=10, probes=[(5.0, Request("tcp", 24224))],
                 signals=[(6.0, SIGTERM)])
    assert result.probes[0][2].status == 0
    assert "fluentd worker is now running worker=0" in result.logs
    assert result.exit_code == 0


def test_every_server_family_is_an_image_family() -> None:
    from podlab.engine.runtime import catalogue

    used = {str(e.get("family")) for e in catalogue.repositories().values()}
    for entry in catalogue.repositories().values():
        for variant in ((entry.get("tags") or {}).get("variants") or {}).values():
            used.add(str(variant.get("family", "")))
    assert set(servers.families()) <= used


def test_pg_isready_answers_from_the_connection() -> None:
    from podlab.engine.apiserver.manifest import parse_manifests
    from podlab.engine.simulation import Simulation

    text = """apiVersion: v1
kind: Pod
metadata: {name: pg}
spec:
  containers:
  - {name: db, image: "postgres:16", env: [{name: POSTGRES_PASSWORD, value: x}]}
  - name: c
    image: postgres:16
    command: [sh, -c, "pg_isready -h nowhere; echo $?; until pg_isready; do sleep 1; done;
              pg_isready -h 127.0.0.1 -p 5432; echo $?; sleep 3600"]
"""
    sim = Simulation(seed=0)
    assert sim.apply(parse_manifests(text).objects) == []
    sim.run_until(40)
    log = sim.logs("pg", "c")
    assert log.startswith("nowhere:5432 - no response\n2\n")
    assert "/var/run/postgresql:5432 - accepting connections\n" in log
    assert log.endswith("127.0.0.1:5432 - accepting connections\n0\n")


def test_httpd_serves_files_logs_access_reloads_on_hup_and_stops_on_term() -> None:
    result = run("httpd:2.4", until=10,
                 probes=[(1.0, http_get(80, "/")), (1.5, http_get(80, "/missing"))],
                 signals=[(2.0, SIGHUP), (3.0, SIGTERM)])
    assert statuses(result) == [(1.0, 200), (1.5, 404)]
    assert result.probes[0][2].headers == (("Server", "Apache/2.4.65"),)
    assert '"GET / HTTP/1.1" 200 45' in result.stdout
    assert "AH00494: SIGHUP received.  Attempting to restart" in result.stderr
    assert "AH00491: caught SIGTERM, shutting down" in result.stderr
    assert result.exit_code == 0 and result.finished_at == 3.05


@pytest.mark.parametrize("image,words", [("httpd:2.4", "Address already in use"),
                                         ("httpd:2.4-alpine", "Address in use")])
def test_httpd_facing_a_taken_port(image: str, words: str) -> None:
    """httpd's own lines (server/listen.c AH00072, "(errno)strerror: " from server/log.c);
    strerror is glibc's on the Debian image and musl's on the Alpine one."""
    from podlab.engine.runtime.process import Response

    result = run(image, listeners={(80, "tcp"): lambda r, t: Response(200)})
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"(98){words}: AH00072: make_sock: could not bind to address [::]:80\n"
        f"(98){words}: AH00072: make_sock: could not bind to address 0.0.0.0:80\n"
        "no listening sockets available, shutting down\nAH00015: Unable to open logs\n")


def test_redis_port_flag_and_sigint() -> None:
    result = run("redis:6.2", args=["redis-server", "--port", "7001"], until=5,
                 probes=[(1.0, Request("tcp", 7001)), (1.0, Request("tcp", 6379))],
                 signals=[(2.0, SIGINT)])
    assert [r.refused or r.status != 0 for _, _, r in result.probes] == [False, True]
    assert "Running mode=standalone, port=7001." in result.stdout
    assert "Received SIGINT scheduling shutdown..." in result.stdout
    assert result.stdout.rstrip().endswith("# Redis is now ready to exit, bye bye...")
    assert result.exit_code == 0


def test_pause_version_flag() -> None:
    assert run("registry.k8s.io/pause:3.10", args=["-v"]).stdout == "pause.c v3.10\n"


def test_nginx_from_the_data_entry() -> None:
    from podlab.engine.runtime.process import SIGQUIT

    head = Request("http", 80, "/", method="HEAD")
    result = run("nginx:1.21", until=10,
                 probes=[(1.0, http_get(80, "/")), (1.0, head), (1.0, http_get(80, "/nope"))],
                 signals=[(2.0, SIGHUP), (3.0, SIGQUIT)])
    assert statuses(result) == [(1.0, 200), (1.0, 200), (1.0, 404)]
    assert result.probes[1][2].body == ""
    assert "<center>nginx/1.21.6</center>" in result.probes[2][2].body
    assert '"HEAD / HTTP/1.1" 200 0 "-" "-" "-"' in result.stdout
    assert "signal 1 (SIGHUP) received, reconfiguring" in result.stderr
    assert "gracefully shutting down" in result.stderr
    assert result.exit_code == 0 and result.finished_at == 3.1
    version = run("nginx:1.21", command=["nginx", "-v"])
    assert (version.exit_code, version.stderr) == (0, "nginx version: nginx/1.21.6\n")


@pytest.mark.parametrize("image,words", [("nginx:1.27", "Address already in use"),
                                         ("nginx:1.27-alpine", "Address in use"),
                                         ("redis:7.4", "Address already in use"),
                                         ("redis:7.4-alpine", "Address in use")])
def test_bind_failures_use_the_images_c_library_words(image: str, words: str) -> None:
    from podlab.engine.runtime.process import Response

    port = 6379 if image.startswith("redis") else 80
    result = run(image, until=5, listeners={(port, "tcp"): lambda r, t: Response(200)})
    text = result.stdout + result.stderr
    assert f"{words}" in text
    if words == "Address in use":
        assert "Address already in use" not in text


class _Ctx:
    """The parts of a process context templates read."""

    def __init__(self, now: float, seed: int = 7) -> None:
        import random

        self.now = now
        self.pod_ip = "10.244.1.5"
        self.hostname = "web-0"
        self.is_pid1 = True
        self.fs = None
        self.rng = random.Random(seed)


def test_templates_are_rendered_field_by_field() -> None:
    import random

    ctx = _Ctx(65.25)
    text = servers._text(
        "{{literal}} {version}/{version_mm} pid {pid} on {hostname} ({pod_ip}) {missing}"
        "{t:%H:%M:%S} {epoch}.{ms} {us} {rand:GET,POST,PUT} {randint:200:600} {x}}",
        ctx, "1.27.3", x=5)
    draws = random.Random(7)
    method = ["GET", "POST", "PUT"][draws.randrange(3)]
    number = draws.randrange(200, 600)
    assert text == (f"{{literal}} 1.27.3/1.27 pid 1 on web-0 (10.244.1.5) 00:01:05 "
                    f"1735689665.250 250000 {method} {number} 5}}")
    assert servers._text("{hostname}", ctx, "2", hostname="extra wins") == "extra wins"
    with pytest.raises(ValueError):
        servers._text("{unclosed", ctx, "1")


def probed_nginx(until: float) -> Simulation:
    """nginx with an httpGet readiness probe every 5 s, run to ``until``."""
    sim = Simulation(seed=0)
    sim.apply([apply_defaults({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                                 "readinessProbe": {"httpGet": {"path": "/", "port": 80},
                                                    "periodSeconds": 5}}]}})])
    sim.run_until(until)
    return sim


def test_access_log_lines_are_joined_when_the_log_is_read() -> None:
    sim = probed_nginx(60)
    worker = sim._workers[("default", "web")]
    inst = worker.slots[0].current
    waiting = [entry for entry in inst.log if not isinstance(entry[2], str)]
    assert len(waiting) >= 10  # one per probe run, none made yet
    # the kept pieces are strings and ints only: tuples the garbage collector lets go of
    assert all(type(piece) in (str, int) for entry in waiting for piece in entry[2])
    assert inst.log_bytes == sum(len(log_entry_text(entry)) for entry in inst.log)  # exact sizes
    line, second = log_entry_text(waiting[-1]), int(waiting[-1][0])
    assert second < 60
    assert line == (f'10.244.0.1 - - [01/Jan/2025:00:00:{second:02d} +0000] "GET / HTTP/1.1" '
                    '200 615 "-" "kube-probe/1.34" "-"\n')
    assert sim.logs("web", "nginx").endswith(line)


def test_a_changed_page_changes_the_answer_and_the_access_log_line() -> None:
    # answers and access-log lines are kept between probes while the files hold
    sim = probed_nginx(30)
    inst = sim._workers[("default", "web")].slots[0].current
    inst.fs.write("/usr/share/nginx/html/index.html", "hi\n")
    sim.run_until(60)
    lines = [line for line in sim.logs("web", "nginx").splitlines() if "kube-probe" in line]
    sizes = [line.split('" ', 2)[1].split()[1] for line in lines]
    assert sizes[0] == "615" and sizes[-1] == "3"
    assert sizes.count("615") >= 4 and sizes.count("3") >= 5
