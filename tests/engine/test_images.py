"""The image catalogue: references, pull errors, command lines and what images do."""

from __future__ import annotations

import pytest

from podlab.engine.runtime import images
from podlab.engine.runtime.fakeruntime import RunResult, http_get, run_program
from podlab.engine.runtime.process import SIGQUIT, SIGTERM, ImageInfo, Request

# --- references -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "normalised"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/nginx:1.27", "docker.io/library/nginx:1.27"),
        ("docker.io/nginx", "docker.io/library/nginx:latest"),
        ("index.docker.io/library/nginx:alpine", "docker.io/library/nginx:alpine"),
        ("polinux/stress", "docker.io/polinux/stress:latest"),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
        ("localhost:5000/team/app:v1", "localhost:5000/team/app:v1"),
        ("localhost/app", "localhost/app:latest"),
        ("nginx@sha256:" + "a" * 64, "docker.io/library/nginx@sha256:" + "a" * 64),
        ("nginx:1.27@sha256:" + "b" * 64, "docker.io/library/nginx:1.27@sha256:" + "b" * 64),
    ],
)
def test_parse_reference(image: str, normalised: str) -> None:
    assert str(images.parse_reference(image)) == normalised


@pytest.mark.parametrize(
    ("image", "error"),
    [
        ("nginx:", "invalid reference format"),
        ("nginx:1.27 ", "invalid reference format"),
        (":latest", "invalid reference format"),
        ("nginx::1", "invalid reference format"),
        ("-nginx", "invalid reference format"),
        ("nginx@sha256:abc", "invalid reference format"),
        ("Nginx", "invalid reference format: repository name (library/Nginx) must be lowercase"),
        ("a" * 64, "invalid repository name (" + "a" * 64 + "), cannot specify 64-byte "
                   "hexadecimal strings"),
    ],
)
def test_invalid_image_name(image: str, error: str) -> None:
    result = images.lookup_image(image)
    assert result.info is None
    assert result.error == "InvalidImageName"
    # the kubelet adds 'Failed to apply default image tag "<image>": ' once (image_manager.go)
    assert result.message == f'couldn\'t parse image reference "{image}": {error}'



def test_not_found_messages() -> None:
    tag = images.lookup_image("nginx:9.9")
    assert tag.error == "NotFound"
    assert tag.message == (
        'rpc error: code = NotFound desc = failed to pull and unpack image '
        '"docker.io/library/nginx:9.9": failed to resolve reference '
        '"docker.io/library/nginx:9.9": docker.io/library/nginx:9.9: not found'
    )
    repo = images.lookup_image("nosuchimage")
    assert repo.error == "NotFound"
    assert repo.message.endswith(
        "pull access denied, repository does not exist or may require authorization: server "
        "message: insufficient_scope: authorization failed"
    )
    host = images.lookup_image("registry.example.invalid/app:1.0")
    assert host.message.endswith("dial tcp: lookup registry.example.invalid: no such host")


def test_known_images_and_digests() -> None:
    found = images.lookup_image("busybox:1.36")
    assert found.error is None and found.info is not None
    info = found.info
    assert info.reference == "docker.io/library/busybox:1.36"
    assert info.digest.startswith("sha256:") and len(info.digest) == 71
    assert info.size_bytes > 1_000_000
    assert info.pull_seconds > 0
    assert info.cmd == ["sh"]
    by_digest = images.lookup_image(f"busybox@{info.digest}")
    assert by_digest.info is not None and by_digest.info.digest == info.digest
    assert images.lookup_image("busybox@sha256:" + "0" * 64).error == "NotFound"
    # deterministic across lookups
    assert images.lookup_image("busybox:1.36").info.digest == info.digest  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "image",
    ["busybox:1.28", "busybox:1.36.1", "busybox:1.37", "alpine:3.19", "alpine:3.20",
     "alpine:3.21", "alpine", "nginx:1.25", "nginx:1.26", "nginx:1.27-alpine", "nginx:alpine",
     "httpd:2.4", "registry.k8s.io/pause:3.10", "registry.k8s.io/e2e-test-images/agnhost:2.47",
     "registry.k8s.io/liveness", "registry.k8s.io/goproxy:0.1", "registry.k8s.io/etcd:3.5.15-0",
     "redis:7.2", "redis:alpine", "polinux/stress", "vish/stress", "podlab/app:1.0",
     "registry.k8s.io/busybox"],
)
def test_catalogue_entries(image: str) -> None:
    result = images.lookup_image(image)
    assert result.error is None, result.message
    assert result.info is not None
    assert images.resolve_executable(
        result.info, images.effective_argv(result.info, None, None)
    ) is None


# --- command lines --------------------------------------------------------------------


def info_for(image: str) -> ImageInfo:
    found = images.lookup_image(image).info
    assert found is not None
    return found


def test_effective_argv_follows_kubernetes() -> None:
    nginx = info_for("nginx")
    assert images.effective_argv(nginx, None, None) == [
        "/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]
    assert images.effective_argv(nginx, None, ["sh", "-c", "x"]) == [
        "/docker-entrypoint.sh", "sh", "-c", "x"]
    assert images.effective_argv(nginx, ["nginx"], None) == ["nginx"]
    assert images.effective_argv(nginx, ["sleep"], ["5"]) == ["sleep", "5"]
    assert images.effective_argv(nginx, [], []) == images.effective_argv(nginx, None, None)


def test_resolve_executable_messages() -> None:
    busybox = info_for("busybox")
    assert images.resolve_executable(busybox, ["sh", "-c", "true"]) is None
    assert images.resolve_executable(busybox, ["/bin/sleep", "1"]) is None
    assert images.resolve_executable(busybox, ["nosuch"]) == (
        'exec: "nosuch": executable file not found in $PATH'
    )
    assert images.resolve_executable(busybox, ["/bin/nosuch"]) == (
        'exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory'
    )
    pause = info_for("registry.k8s.io/pause:3.9")
    assert images.resolve_executable(pause, ["sh"]) == (
        'exec: "sh": executable file not found in $PATH'
    )


def test_expand_kubernetes_vars() -> None:
    env = {"NAME": "web", "PORT": "80"}
    assert images.expand_kubernetes_vars("$(NAME):$(PORT)", env) == "web:80"
    assert images.expand_kubernetes_vars("$(MISSING) $$(NAME)", env) == "$(MISSING) $(NAME)"


# --- running images -------------------------------------------------------------------


def run(image: str, command: list[str] | None = None, args: list[str] | None = None,
        env: dict[str, str] | None = None, **kwargs: object) -> RunResult:
    info = info_for(image)
    argv = images.effective_argv(info, command, args)
    assert images.resolve_executable(info, argv) is None
    return run_program(  # type: ignore[arg-type]
        images.program_for(info, argv),
        argv=argv,
        env={**info.env, **(env or {})},
        fs=images.new_filesystem(info, hostname="pod"),
        hostname="pod",
        **kwargs,
    )


def statuses(result: RunResult) -> list[tuple[float, int]]:
    return [(t, response.status) for t, _, response in result.probes]


def test_busybox_default_command_exits_at_once() -> None:
    result = run("busybox")
    assert (result.exit_code, result.finished_at) == (0, 0.0)


def test_busybox_applet_as_argv0() -> None:
    result = run("busybox:1.28", command=["sleep", "3600"], until=4000)
    assert (result.exit_code, result.finished_at) == (0, 3600.0)
    result = run("busybox", command=["echo"], args=["The app is running!"])
    assert result.stdout == "The app is running!\n"
    result = run("alpine", args=["cat", "/etc/os-release"])
    assert "Alpine Linux" in result.stdout


def test_busybox_version_in_usage() -> None:
    assert "BusyBox v1.28.4" in run("busybox:1.28", command=["sleep"]).stderr
    assert "BusyBox v1.37.0" in run("alpine:3.21", command=["sleep"]).stderr


def test_agnhost_liveness_timing() -> None:
    probes = [(t, http_get(8080, "/healthz")) for t in (3.0, 6.0, 9.0, 10.0, 12.0, 15.0)]
    probes.append((20.0, Request("tcp", 8080)))
    result = run("registry.k8s.io/e2e-test-images/agnhost:2.40", args=["liveness"],
                 probes=probes, signals=[(30.0, SIGTERM)])
    assert statuses(result) == [(3.0, 200), (6.0, 200), (9.0, 200), (10.0, 200), (12.0, 500),
                                (15.0, 500), (20.0, 0)]
    assert result.probes[4][2].body == "error: 12"
    assert result.probes[0][2].body == "ok"
    # a Go program as PID 1 without handlers: the runtime's handler exits with 2
    assert (result.exit_code, result.finished_at) == (2, 30.0)


def test_agnhost_liveness_redirect_and_old_image() -> None:
    result = run("registry.k8s.io/liveness", probes=[
        (1.0, http_get(8080, "/redirect?loc=%2Fhealthz")), (11.0, http_get(8080, "/healthz"))])
    redirect = result.probes[0][2]
    assert redirect.status == 302
    assert dict(redirect.headers)["Location"] == "/healthz"
    assert result.probes[1][2].status == 500


def test_agnhost_subcommands() -> None:
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.45"
    bad = run(agnhost, args=["nosuch"])
    assert bad.exit_code == 1
    assert bad.stderr == ('Error: unknown command "nosuch" for "agnhost"\n'
                          "Run 'agnhost --help' for usage.\n")
    paused = run(agnhost, signals=[(5.0, SIGTERM)])
    assert (paused.exit_code, paused.stdout) == (2, "Paused\nexiting 2\n")
    netexec = run(agnhost, args=["netexec", "--http-port=8080"], probes=[
        (1.0, http_get(8080, "/echo?msg=poststart")), (2.0, http_get(8080, "/hostname"))],
        until=10.0)
    assert [r.body for _, _, r in netexec.probes] == ["poststart", "pod"]
    assert "GET /echo?msg=poststart" in netexec.logs
    web = run(agnhost, args=["test-webserver"], probes=[(1.0, http_get(80, "/"))], until=5.0)
    assert statuses(web) == [(1.0, 200)]


def test_agnhost_grpc_health_checking() -> None:
    result = run(
        "registry.k8s.io/e2e-test-images/agnhost:2.47", args=["grpc-health-checking"],
        probes=[(1.0, Request("grpc", 5000)), (2.0, http_get(8080, "/make-not-serving")),
                (3.0, Request("grpc", 5000)), (4.0, http_get(8080, "/make-serving")),
                (5.0, Request("grpc", 5000)), (6.0, Request("grpc", 5000, service="other"))],
        until=10.0,
    )
    grpc = [r.grpc_status for _, req, r in result.probes if req.kind == "grpc"]
    assert grpc == ["SERVING", "NOT_SERVING", "SERVING", "SERVICE_UNKNOWN"]


def test_nginx_serves_and_stops_quickly() -> None:
    info = info_for("nginx:1.27")
    fs = images.new_filesystem(info)
    argv = images.effective_argv(info, None, None)
    fs.write("/usr/share/nginx/html/custom.html", "custom\n")
    result = run_program(
        images.program_for(info, argv), fs=fs,
        probes=[(1.0, http_get(80, "/")), (2.0, http_get(80, "/custom.html")),
                (3.0, http_get(80, "/missing")), (4.0, http_get(8080, "/"))],
        signals=[(10.0, SIGTERM)],
    )
    assert statuses(result) == [(1.0, 200), (2.0, 200), (3.0, 404), (4.0, 0)]
    assert result.probes[3][2].refused
    assert "<h1>Welcome to nginx!</h1>" in result.probes[0][2].body
    assert result.probes[1][2].body == "custom\n"
    assert result.exit_code == 0
    assert result.finished_at is not None and 10.0 < result.finished_at < 10.5
    assert "signal 15 (SIGTERM) received, exiting" in result.stderr
    assert '"GET / HTTP/1.1" 200 615' in result.stdout


def test_nginx_sigquit_and_shell_args() -> None:
    quit_result = run("nginx", signals=[(3.0, SIGQUIT)])
    assert quit_result.exit_code == 0
    assert "gracefully shutting down" in quit_result.stderr
    shell = run("nginx", args=["sh", "-c", "echo from shell; exit 5"])
    assert (shell.exit_code, shell.stdout) == (5, "from shell\n")


def test_httpd_and_redis() -> None:
    web = run("httpd", probes=[(1.0, http_get(80, "/"))], signals=[(3.0, SIGTERM)])
    assert web.probes[0][2].body == "<html><body><h1>It works!</h1></body></html>\n"
    assert web.exit_code == 0
    db = run("redis:7.2", probes=[(1.0, Request("tcp", 6379)), (2.0, http_get(6379))],
             signals=[(3.0, SIGTERM)])
    assert [r.refused for _, _, r in db.probes] == [False, True]
    assert db.exit_code == 0
    assert "Ready to accept connections tcp" in db.stdout
    assert "Redis is now ready to exit, bye bye..." in db.stdout


def test_pause_and_goproxy_and_etcd() -> None:
    pause = run("registry.k8s.io/pause:3.10", signals=[(2.0, SIGTERM)])
    assert (pause.exit_code, pause.stderr) == (0, "Shutting down, got signal: Terminated\n")
    proxy = run("registry.k8s.io/goproxy:0.1", probes=[(15.0, Request("tcp", 8080))],
                until=20.0)
    assert statuses(proxy) == [(15.0, 0)] and proxy.exit_code is None
    etcd = run(
        "registry.k8s.io/etcd:3.5.1-0",
        command=["/usr/local/bin/etcd", "--data-dir", "/var/lib/etcd", "--listen-client-urls",
                 "http://0.0.0.0:2379", "--advertise-client-urls", "http://127.0.0.1:2379"],
        probes=[(10.0, Request("grpc", 2379))], signals=[(15.0, SIGTERM)],
    )
    assert etcd.probes[0][2].grpc_status == "SERVING"
    assert etcd.exit_code == 0


def test_polinux_stress_memory() -> None:
    result = run("polinux/stress", command=["stress"],
                 args=["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"], until=30.0)
    assert result.exit_code is None
    assert result.stdout == "stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd\n"
    t, used = result.memory[-1]
    assert used == 162_856_960  # what `kubectl top` shows in the docs
    assert t < 1.0
    timed = run("polinux/stress", command=["stress"], args=["--cpu", "1", "--timeout", "3s"])
    assert timed.exit_code == 0
    assert timed.cpu_seconds == pytest.approx(3.0, abs=0.1)
    assert timed.stdout.endswith("successful run completed in 3s\n")
    bad = run("polinux/stress", command=["stress"], args=["--bogus"])
    assert bad.exit_code == 1


def test_vish_stress_memory_growth_and_cpu() -> None:
    result = run("vish/stress", args=["-mem-total", "150Mi", "-mem-alloc-size", "10Mi",
                                      "-mem-alloc-sleep", "1s"], until=40.0)
    sizes = [used for _, used in result.memory]
    assert sizes == sorted(sizes)
    assert sizes[-1] == 151 * 1024 * 1024
    assert result.memory[-1][0] == pytest.approx(14.0)
    cpu = run("vish/stress", args=["-cpus", "2"], until=10.0, cpu_limit=1.0)
    assert cpu.cpu_seconds >= 8.0


# --- podlab/app -----------------------------------------------------------------------


def app(env: dict[str, str], **kwargs: object) -> RunResult:
    return run("podlab/app:1.0", env=env, **kwargs)


def test_app_start_delay_and_readiness() -> None:
    result = app(
        {"START_DELAY": "5", "READY_AFTER": "8", "NOT_READY_AFTER": "20"},
        probes=[(t, http_get(8080, "/ready")) for t in (1.0, 6.0, 9.0, 21.0)],
        until=30.0,
    )
    assert [r.status if not r.refused else "refused" for _, _, r in result.probes] == [
        "refused", 503, 200, 503]


def test_app_healthy_for_and_crash() -> None:
    result = app({"HEALTHY_FOR": "10", "CRASH_AFTER": "30", "EXIT_CODE": "3"},
                 probes=[(5.0, http_get(8080, "/healthz")), (11.0, http_get(8080, "/healthz"))])
    assert statuses(result) == [(5.0, 200), (11.0, 500)]
    assert (result.exit_code, result.finished_at) == (3, 30.0)
    assert "CRASH_AFTER=30s reached: exiting with code 3" in result.stdout


def test_app_memory_growth() -> None:
    result = app({"MEMORY_START": "10", "MEMORY_GROWTH": "5"}, until=10.0)
    assert result.memory[0] == (0.0, 10 * 1024 * 1024)
    assert result.memory[-1] == (10.0, 60 * 1024 * 1024)


def test_app_shutdown_delay_and_ignore_sigterm() -> None:
    slow = app({"SHUTDOWN_DELAY": "7"}, signals=[(10.0, SIGTERM)],
               probes=[(12.0, http_get(8080, "/ready"))])
    assert (slow.exit_code, slow.finished_at) == (0, 17.0)
    assert statuses(slow) == [(12.0, 503)]
    stubborn = app({"IGNORE_SIGTERM": "true"}, signals=[(10.0, SIGTERM)], until=100.0)
    assert stubborn.exit_code is None
    assert "IGNORE_SIGTERM is set" in stubborn.stdout


def test_app_log_every_and_bad_config() -> None:
    result = app({"LOG_EVERY": "2"}, until=7.0)
    assert result.stdout.count("tick") == 3
    bad = app({"START_DELAY": "soon"})
    assert bad.exit_code == 2
    assert bad.stderr == (
        'podlab-app: invalid START_DELAY "soon": want seconds, like 10 or 1.5 or 2m\n'
    )


# --- exec ------------------------------------------------------------------------------


def test_exec_program_in_a_running_container() -> None:
    info = info_for("registry.k8s.io/busybox")
    fs = images.new_filesystem(info)
    probe = images.exec_program(info, ["cat", "/tmp/healthy"])
    failed = run_program(probe, fs=fs, is_pid1=False)
    assert failed.exit_code == 1
    assert failed.stderr == "cat: can't open '/tmp/healthy': No such file or directory\n"
    fs.write("/tmp/healthy", "")
    assert run_program(probe, fs=fs, is_pid1=False).exit_code == 0


def test_exec_program_missing_binary() -> None:
    info = info_for("nginx")
    result = run_program(images.exec_program(info, ["badcommand"]), is_pid1=False)
    assert result.exit_code == 126
    assert result.stderr == (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        'exec: "badcommand": executable file not found in $PATH: unknown\r\n'
    )


def test_shell_execs_the_image_program() -> None:
    """`sh -c '...; exec nginx'`: nginx replaces the shell and handles SIGTERM as PID 1."""
    result = run("nginx", command=["sh", "-c", "echo preparing; exec nginx -g 'daemon off;'"],
                 probes=[(1.0, http_get(80, "/"))], signals=[(5.0, SIGTERM)])
    assert result.stdout.startswith("preparing\n")
    assert statuses(result) == [(1.0, 200)]
    assert result.exit_code == 0
    assert result.finished_at is not None and result.finished_at < 5.5


def test_shell_runs_an_image_program_in_the_background() -> None:
    """A child server is not PID 1: the shell keeps the container's signals."""
    result = run(
        "registry.k8s.io/e2e-test-images/agnhost:2.40",
        command=["sh", "-c", "/agnhost liveness & sleep 2; wget -q -O- localhost:8080/healthz"],
        until=30.0,
    )
    assert (result.exit_code, result.stdout) == (0, "ok")
    redis_script = "redis-server --port 7000 > /tmp/redis.log & sleep 5; cat /tmp/redis.log"
    result = run("redis", command=["sh", "-c", redis_script], until=30.0,
                 probes=[(1.0, Request("tcp", 7000))], signals=[(2.0, SIGTERM)])
    assert statuses(result) == [(1.0, 0)]
    assert result.exit_code == 0
    assert result.finished_at == 5.0  # the shell, PID 1 without a trap, ignored SIGTERM
    assert "Ready to accept connections tcp" in result.stdout


def test_new_filesystem() -> None:
    info = info_for("nginx")
    fs = images.new_filesystem(info, hostname="web-1", pod_ip="10.244.0.7", namespace="shop")
    assert fs.read("/etc/hostname") == "web-1\n"
    assert fs.read("/etc/hosts").endswith("10.244.0.7\tweb-1\n")
    assert fs.read("/etc/resolv.conf").startswith("search shop.svc.cluster.local ")
    assert "Welcome to nginx!" in fs.read("/usr/share/nginx/html/index.html")
    assert fs.is_dir("/tmp") and fs.exists("/dev/termination-log")
    locked = images.new_filesystem(info_for("busybox"), read_only_root=True)
    result = run_program(images.exec_program(info_for("busybox"), ["touch", "/tmp/x"]),
                         fs=locked, is_pid1=False)
    assert (result.exit_code, result.stderr) == (1, "touch: /tmp/x: Read-only file system\n")
    result = run_program(
        images.exec_program(info_for("busybox"), ["sh", "-c", "echo bye > /dev/termination-log"]),
        fs=locked, is_pid1=False,
    )
    assert result.exit_code == 0
    assert locked.read("/dev/termination-log") == "bye\n"


def test_containers_of_one_image_never_share_writes() -> None:
    """File systems are copied from one tree per image: a write, a new directory, a removal
    or a mount in one container is seen by no other container and by no later one."""
    info = info_for("nginx")
    first = images.new_filesystem(info, hostname="a")
    first.write("/tmp/mine", "one")
    first.mkdir("/data/deep", parents=True)
    first.remove("/usr/share/nginx/html/index.html")
    first.mount("/cache", images.new_filesystem(info_for("busybox")))
    second = images.new_filesystem(info, hostname="b", read_only_root=True)
    assert not second.exists("/tmp/mine") and not second.exists("/data")
    assert "Welcome to nginx!" in second.read("/usr/share/nginx/html/index.html")
    assert second.mounts() == [] and second.read("/etc/hostname") == "b\n"
    assert second.read_only_root and not first.read_only_root
    assert first.read("/tmp/mine") == "one" and first.read("/etc/hostname") == "a\n"
    assert sorted(second.listdir("/tmp")) == sorted(images.new_filesystem(info).listdir("/tmp"))


def test_init_container_wait_loop_from_the_docs() -> None:
    """busybox:1.28 looping on nslookup until the Service exists (no cluster DNS yet)."""
    info = info_for("busybox:1.28")
    script = ("until nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/"
              "namespace).svc.cluster.local; do echo waiting for myservice; sleep 2; done")
    result = run_program(
        images.program_for(info, ["sh", "-c", script]),
        fs=images.new_filesystem(info, hostname="myapp-pod", namespace="default"),
        until=5.0,
    )
    assert result.exit_code is None
    assert result.stdout.count("waiting for myservice") == 3
    assert result.stderr.startswith(
        "nslookup: can't resolve 'myservice.default.svc.cluster.local'\n"
    )
    assert "Address 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local" in result.stdout
