"""Manifests the lab tests share."""

# nginx answers an HTTP and a TCP probe and logs each request; a busybox worker answers an
# exec probe and prints a line every 7 s.
PROBED = """\
apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  containers:
  - name: web
    image: nginx:1.27
    readinessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 5
    livenessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 10
  - name: worker
    image: busybox:1.36
    command: ["sh", "-c", "touch /tmp/ok; while true; do echo tick; sleep 7; done"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ok"]}
      periodSeconds: 3
"""


# A Namespace and an nginx Pod in it (a short grace period): deleting the Namespace.
NAMESPACED = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: web
    image: nginx:1.27
"""


# A BestEffort Pod whose stress worker holds 7,900Mi: the node runs low on memory.
MEMORY_HOG = """\
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  containers:
  - name: hog
    image: polinux/stress
    command: ["stress"]
    args: ["--vm", "1", "--vm-bytes", "7900Mi", "--vm-hang", "1"]
"""


def busybox_pod(name: str, script: str, *, containers: int = 1) -> str:
    """A Pod of ``containers`` busybox containers (``c0``, ``c1``...) each running
    ``sh -c script``."""
    body = "".join(f"""
  - name: c{i}
    image: busybox:1.36
    command: ["sh", "-c", "{script}"]""" for i in range(containers))
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:{body}
"""


# An ordinary lab that is long to simulate: ten containers printing the date every second
# (an hour of it is 36,000 log lines and more than one slice of CPU to seek through).
DATE_LOGGERS = busybox_pod("chatty", "while true; do date; sleep 1; done", containers=10)

# A runaway: every turn of this loop changes the variable its condition tests, so the shell
# runs each turn (far less simulated time per CPU second than the lab allows).
COUNTING_LOOP = busybox_pod("counter", "i=0; while [ $i -ge 0 ]; do i=$((i+1)); done")

# Ten date loggers that fall silent after 1,500 lines and wait forever: quiet from then on,
# so the lab's settled check looks ahead by replaying its whole history.
QUIET_LOGGERS = busybox_pod(
    "hush", "i=0; while [ $i -lt 1500 ]; do date; i=$((i+1)); sleep 1; done; sleep infinity",
    containers=10)
