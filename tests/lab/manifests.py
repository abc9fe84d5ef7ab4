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
