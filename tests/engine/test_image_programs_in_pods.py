"""The images whose behaviour is data (``data/servers.json``: agnhost, the old liveness
server, goproxy, etcd, polinux/stress, vish/stress, podlab/app) run in Pods: what the kubelet
sees of them (probes, restarts, exit codes, OOM kills, logs) is what their upstream images
give."""

from __future__ import annotations

from typing import Any

import yaml

from podlab.engine.runtime import images
from podlab.engine.runtime.process import SIGINT, SIGQUIT, SIGTERM
from podlab.engine.simulation import Simulation


def pod(name: str, image: str, **container: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": image, **container}]}
    for key in ("restartPolicy", "terminationGracePeriodSeconds"):
        if key in container:
            spec[key] = spec["containers"][0].pop(key)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def run(*pods: dict[str, Any], until: float) -> Simulation:
    sim = Simulation(seed=3)
    assert sim.apply(list(pods)) == []
    sim.run_until(until)
    return sim


def container(sim: Simulation, name: str) -> dict[str, Any]:
    found = sim.pod(name)
    assert found is not None
    statuses: list[dict[str, Any]] = found["status"]["containerStatuses"]
    return statuses[0]


def messages(sim: Simulation, reason: str) -> list[str]:
    return [e["message"] for e in sim.events() if e["reason"] == reason]


def test_the_liveness_images_fail_their_probe_after_ten_seconds() -> None:
    # kubernetes.io "Define a liveness HTTP request": /healthz is 500 after 10 s
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 3,
             "periodSeconds": 3}
    sim = run(pod("agnhost", "registry.k8s.io/e2e-test-images/agnhost:2.40", args=["liveness"],
                  livenessProbe=probe),
              pod("old", "registry.k8s.io/liveness", args=["/server"], livenessProbe=probe),
              until=40)
    for name in ("agnhost", "old"):
        assert container(sim, name)["restartCount"] >= 1
    assert "Liveness probe failed: HTTP probe failed with statuscode: 500" in messages(
        sim, "Unhealthy")


def test_agnhost_netexec_serves_and_logs_each_request() -> None:
    sim = run(pod("netexec", "registry.k8s.io/e2e-test-images/agnhost:2.47",
                  args=["netexec", "--http-port=8081", "--udp-port=0"],
                  readinessProbe={"httpGet": {"path": "/echo?msg=hi", "port": 8081},
                                  "periodSeconds": 2}),
              until=8)
    assert container(sim, "netexec")["ready"] is True
    logs = sim.logs("netexec")
    assert "Started HTTP server on port 8081\n" in logs
    assert "Started UDP server" not in logs
    assert logs.count(" GET /echo?msg=hi\n") >= 2


def test_agnhost_refuses_a_bad_flag_and_an_unknown_subcommand() -> None:
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.47"
    sim = run(pod("bad-flag", agnhost, args=["netexec", "--http-port=eighty"],
                  restartPolicy="Never"),
              pod("bad-sub", agnhost, args=["nosuch"], restartPolicy="Never"), until=5)
    assert container(sim, "bad-flag")["state"]["terminated"]["exitCode"] == 1
    assert sim.logs("bad-flag") == (
        'Error: invalid argument "eighty" for "--http-port" flag: strconv.ParseInt: '
        'parsing "eighty": invalid syntax\n')
    assert container(sim, "bad-sub")["state"]["terminated"]["exitCode"] == 1
    assert sim.logs("bad-sub").startswith('Error: unknown command "nosuch" for "agnhost"\n')


def test_agnhost_pause_and_go_programs_exit_codes_on_signals() -> None:
    agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.47"
    sim = run(pod("pause", agnhost), pod("web", agnhost, args=["test-webserver"]),
              pod("paused-int", agnhost), until=6)
    sim.kill_container("pause", "c", signal=SIGTERM)
    sim.kill_container("paused-int", "c", signal=SIGINT)
    sim.kill_container("web", "c", signal=SIGTERM)
    sim.run_until(9)
    last = {name: container(sim, name)["lastState"]["terminated"]["exitCode"]
            for name in ("pause", "paused-int", "web")}
    # pause: its own handler (2 on SIGTERM, 1 on SIGINT); test-webserver: Go's runtime as PID 1
    assert last == {"pause": 2, "paused-int": 1, "web": 2}
    assert sim.logs("pause", previous=True) == "Paused\nexiting 2\n"


def test_agnhost_grpc_health_checking_turns_not_serving_after_its_delay() -> None:
    sim = run(pod("grpc", "registry.k8s.io/e2e-test-images/agnhost:2.47",
                  args=["grpc-health-checking", "--delay-unhealthy-sec=12"],
                  livenessProbe={"grpc": {"port": 5000}, "periodSeconds": 5,
                                 "failureThreshold": 1}),
              until=11)
    assert container(sim, "grpc")["restartCount"] == 0
    sim.run_until(30)
    assert container(sim, "grpc")["restartCount"] >= 1
    assert any("NOT_SERVING" in m for m in messages(sim, "Unhealthy"))


def test_agnhost_logs_generator_logs_its_lines_and_completes() -> None:
    sim = run(pod("gen", "registry.k8s.io/e2e-test-images/agnhost:2.47",
                  args=["logs-generator", "--log-lines-total", "6", "--run-duration", "3s"],
                  restartPolicy="Never"), until=10)
    terminated = container(sim, "gen")["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    lines = sim.logs("gen").splitlines()
    assert len(lines) == 6
    assert all(" logs_generator.go:67] " in line for line in lines)
    assert [line.split("] ")[1].split()[0] for line in lines] == ["0", "1", "2", "3", "4", "5"]


def test_goproxy_answers_tcp_and_refuses_plain_http() -> None:
    # kubernetes.io "Define a TCP liveness probe" uses goproxy with tcpSocket probes on 8080
    sim = run(pod("goproxy", "registry.k8s.io/goproxy:0.1",
                  readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 2},
                  livenessProbe={"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2,
                                 "failureThreshold": 1}),
              until=6)
    assert container(sim, "goproxy")["ready"] is not None
    assert "Liveness probe failed: HTTP probe failed with statuscode: 500" in messages(
        sim, "Unhealthy")


def test_etcd_listens_on_its_client_urls_and_stops_on_sigterm() -> None:
    command = ["etcd", "--data-dir=/var/lib/etcd",
               "--listen-client-urls=http://127.0.0.1:2379,http://10.0.0.1:2379",
               "--listen-metrics-urls=http://127.0.0.1:2381"]
    sim = run(pod("etcd", "registry.k8s.io/etcd:3.5.15-0", command=command,
                  livenessProbe={"httpGet": {"path": "/health", "port": 2381},
                                 "periodSeconds": 2},
                  startupProbe={"grpc": {"port": 2379}, "periodSeconds": 1,
                                "initialDelaySeconds": 1}),
              until=6)
    assert container(sim, "etcd")["started"] is True
    assert messages(sim, "Unhealthy") == []
    logs = sim.logs("etcd")
    assert '"msg":"Running: ","args":["etcd","--data-dir=/var/lib/etcd",' in logs
    assert '"address":"[::]:2379"' in logs
    sim.kill_container("etcd", "c", signal=SIGTERM)
    sim.run_until(8)
    assert container(sim, "etcd")["lastState"]["terminated"]["exitCode"] == 0
    assert '"signal":"terminated"' in sim.logs("etcd", previous=True)


def test_polinux_stress_is_oom_killed_past_its_limit() -> None:
    # kubernetes.io "Assign Memory Resources": --vm-bytes 250M under a 100Mi limit
    memory = yaml.safe_load("""
    resources: {limits: {memory: 100Mi}, requests: {memory: 50Mi}}
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"]
    """)
    within = yaml.safe_load("""
    resources: {limits: {memory: 200Mi}}
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1", "--timeout", "5s"]
    restartPolicy: Never
    """)
    sim = run(pod("over", "polinux/stress", **memory), pod("within", "polinux/stress", **within),
              until=8)
    over = container(sim, "over")
    assert over["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert over["restartCount"] >= 1
    done = container(sim, "within")["state"]["terminated"]
    assert (done["exitCode"], done["reason"]) == (0, "Completed")
    assert sim.logs("within") == (
        "stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd\n"
        "stress: info: [1] successful run completed in 5s\n")


def test_polinux_stress_refuses_unknown_options() -> None:
    sim = run(pod("bad", "polinux/stress", command=["stress", "--vm", "x"],
                  restartPolicy="Never"),
              pod("odd", "polinux/stress", command=["stress", "--frobnicate", "1"],
                  restartPolicy="Never"), until=3)
    assert sim.logs("bad") == "stress: FAIL: [1] (1) invalid number in --vm option\n"
    assert sim.logs("odd") == "stress: FAIL: [1] (1) unrecognized option: --frobnicate\n"
    assert container(sim, "odd")["state"]["terminated"]["exitCode"] == 1


def test_vish_stress_allocates_until_the_oom_kill() -> None:
    sim = run(pod("vish", "vish/stress", args=["-mem-total", "150Mi", "-mem-alloc-size", "10Mi",
                                               "-mem-alloc-sleep", "1s"],
                  resources={"limits": {"memory": "100Mi"}}), until=14)
    status = container(sim, "vish")
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert 'Allocating "150Mi" memory, in "10Mi" chunks, with a 1s sleep between allocations' \
        in sim.logs("vish", previous=True)


def test_podlab_app_follows_its_environment() -> None:
    def env(**values: str) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in values.items()]

    app = "podlab/app:1.0"
    ready = {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1}
    sim = run(
        pod("slow", app, env=env(READY_AFTER="5"), readinessProbe=ready),
        pod("crash", app, env=env(CRASH_AFTER="2", EXIT_CODE="3")),
        pod("stubborn", app, env=env(IGNORE_SIGTERM="yes"), terminationGracePeriodSeconds=3),
        pod("typo", app, env=env(PORT="http")),
        until=4,
    )
    assert container(sim, "slow")["ready"] is False
    crash = container(sim, "crash")
    assert crash["lastState"]["terminated"]["exitCode"] == 3
    assert "CRASH_AFTER=2s reached: exiting with code 3" in sim.logs("crash", previous=True)
    assert container(sim, "typo")["lastState"]["terminated"]["exitCode"] == 2
    assert sim.logs("typo", previous=True) == (
        'podlab-app: invalid PORT "http": want a number\n')
    sim.delete_pod("stubborn")
    sim.run_until(9)
    assert container(sim, "slow")["ready"] is True
    assert not sim.has_pod("stubborn")
    assert any(e["reason"] == "Killing" for e in sim.events()
               if e["involvedObject"]["name"] == "stubborn")


def test_php_fpm_stops_gracefully_with_its_images_stopsignal() -> None:
    # php:*-fpm images declare STOPSIGNAL SIGQUIT: php-fpm finishes its requests
    # ("Finishing ...") where SIGTERM would terminate it at once ("Terminating ...")
    sim = run(pod("fpm", "php:8.2-fpm", terminationGracePeriodSeconds=30),
              pod("killed", "php:8.2-fpm"), pod("cli", "php:8.2-cli", command=["sleep", "1h"]),
              until=30)
    assert container(sim, "fpm")["ready"] is True
    sim.kill_container("killed", "c", signal=SIGTERM)
    sim.run_until(31)
    assert "NOTICE: Terminating ...\n" in sim.logs("killed", previous=True)
    sim.delete_pod("fpm")
    sim.run_until(sim.now + 0.05)
    logs = sim.logs("fpm")
    assert "NOTICE: Finishing ...\n" in logs
    assert "Terminating" not in logs
    sim.run_until(sim.now + 1)
    assert not sim.has_pod("fpm")
    info = images.lookup_image("php:8.2-fpm-alpine").info
    assert info is not None and info.stop_signal == SIGQUIT
    cli = images.lookup_image("php:8.2-cli").info
    assert cli is not None and cli.stop_signal == SIGTERM
