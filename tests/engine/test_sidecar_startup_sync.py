"""A sidecar whose startup probe succeeds lets the app containers start at once (the kubelet
syncs the Pod when a startup probe result changes)."""

import io

from podlab.engine import cli

POD = """apiVersion: v1
kind: Pod
metadata:
  name: amb
spec:
  initContainers:
  - name: proxy
    image: registry.k8s.io/goproxy:0.1
    restartPolicy: Always
    startupProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 2
      failureThreshold: 15
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "sleep 3600"]
"""


def test_app_starts_after_the_sidecar_startup_probe_succeeds(tmp_path):
    path = tmp_path / "amb.yaml"
    path.write_text(POD, encoding="utf-8")
    out = io.StringIO()
    assert cli.main([str(path), "--until", "30"], stdout=out, stderr=io.StringIO()) == 0
    row = out.getvalue().splitlines()[1].split()
    assert row[1:3] == ["2/2", "Running"], out.getvalue()
