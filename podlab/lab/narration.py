"""The lab's narration: every moment that matters, in plain words, in the page's language.

The engine emits data (transitions with rule ids and causes, v1 Events, probe results); this
module picks the moments a learner should notice and says what happened, why, which manifest
field (or which action) caused it, and where the lesson teaches it. Entries are kept as data
(``code`` and ``params``) and turned into text only when they are sent, in the page's language.

Each entry has a ``kind`` the page can pause on (``docs/protocol.md``, breakpoints):
``probe-failure``, ``probe-success``, ``kill``, ``exit``, ``restart``, ``backoff``, ``phase``,
``state``, ``ready``, ``image``, ``hook``, ``schedule``, ``evict``.

This is the one place that words what happens in a running lab: the lab and the classroom
(every student in their own language) show the same entries. ``SILENT_RULES`` lists the
engine rules that are told by another entry (a test checks every rule is either told or
listed there).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from podlab.engine.apiserver.defaults import DEFAULT_TOLERATION_SECONDS
from podlab.engine.cluster import NODE_MONITOR_GRACE_PERIOD, PRESSURE_TAINTS, TAINT_UNREACHABLE
from podlab.engine.kubelet.kubelet import INITIAL_CRASH_BACKOFF, MAX_CRASH_BACKOFF
from podlab.engine.runtime.process import SIGNAL_NAMES as PROCESS_SIGNALS
from podlab.engine.scheduler import scheduler as sched

#: engine rules that get no entry of their own: another entry tells the same moment
SILENT_RULES = frozenset({
    "image.pulling",       # the Pulling event
    "restart.count",       # told by the restart entry ("RESTARTS is now n")
    "startup.succeeded",   # the container's start says it; a startup probe's success is quiet
    "startup.reset",       # the exit entry says the container stopped
    "liveness.kill",       # the Killing event (with the grace period) and the exit entry
    "startup.kill",
    "delete.kill",
    "deadline.kill",       # the deadline phase entry
    "poststart.kill",      # the FailedPostStartHook event
    "pod.evicted",         # the Evicted event
})
KINDS = ("probe-failure", "probe-success", "kill", "exit", "restart", "backoff", "phase",
         "state", "ready", "image", "hook", "schedule", "evict")
#: what the page offers as breakpoints (a subset of KINDS, in this order)
BREAK_KINDS = ("restart", "probe-failure", "kill", "phase")
DEFAULT_GRACE = 30
SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"}
PROBE_NAMES = {"liveness": _("liveness probe"), "readiness": _("readiness probe"),
               "startup": _("startup probe")}
PROBE_FIELDS = {"liveness": "livenessProbe", "readiness": "readinessProbe",
                "startup": "startupProbe"}

# code -> (sentence with %(name)s parameters, lesson slug, anchor)
TEXT: dict[str, tuple[Any, str, str]] = {
    "scheduled": (_("The scheduler placed the Pod on node %(node)s."),
                  "how-a-pod-is-created", "scheduler"),
    "gated": (_("The Pod has scheduling gates (%(gates)s): the scheduler does not even look at "
                "it until every gate is removed. kubectl shows SchedulingGated."),
              "scheduling", "gates"),
    # said by fit_text() when the scheduler's message could be read (render_all)
    "unschedulable": (_("The scheduler found no node for the Pod; it tries again when the "
                        "cluster changes."),
                      "scheduling", "failed-scheduling"),
    "pulling": (_("The kubelet starts pulling the image %(image)s."),
                "images-and-pull-policy", "pull-policy"),
    "pulled": (_("The image %(image)s is on the node now."),
               "images-and-pull-policy", "pull-policy"),
    "pull-failed": (_("Pulling %(image)s failed: the registry has no such image or tag. The "
                      "container cannot start (ErrImagePull)."),
                    "images-and-pull-policy", "errimagepull"),
    "pull-denied": (_("Pulling %(image)s failed: pull access denied. No public repository has "
                      "this name (a private one would need imagePullSecrets). On a real cluster "
                      "you would push the image first; here, \"Make it available\" in the "
                      "registry actions pushes a test image under this name that listens on "
                      "the container's ports."),
                    "images-and-pull-policy", "errimagepull"),
    "pull-unreachable": (_("Pulling %(image)s failed: the registry's host name does not "
                           "resolve, so the node cannot reach it (ErrImagePull)."),
                         "images-and-pull-policy", "errimagepull"),
    "never-pull": (_("imagePullPolicy is Never and %(image)s is not on the node, so the kubelet "
                     "will not pull it (ErrImageNeverPull)."),
                   "images-and-pull-policy", "errimageneverpull"),
    "image-invalid": (_("The image reference %(image)s cannot be parsed (InvalidImageName): "
                        "the container cannot start until the manifest is fixed."),
                      "images-and-pull-policy", "invalidimagename"),
    "config-error": (_("The kubelet cannot build the container's configuration (%(reason)s): a "
                       "ConfigMap, Secret or key it refers to is missing, or runAsNonRoot "
                       "cannot be met."),
                     "volumes", "configmap-secret"),
    "config-missing": (_("The kubelet cannot start the container (CreateContainerConfigError): "
                         "the %(object_kind)s %(name)s that it takes environment variables from "
                         "does not exist. Create it (the kubelet retries), or mark the "
                         "reference optional: true."),
                       "volumes", "env-sources"),
    "config-key": (_("The kubelet cannot start the container (CreateContainerConfigError): "
                     "the %(object_kind)s %(name)s has no key %(key)s. Add the key (the kubelet "
                     "retries), or mark the reference optional: true."),
                   "volumes", "env-sources"),
    "config-root-image": (_("The kubelet refuses to start the container "
                            "(CreateContainerConfigError): runAsNonRoot is true, no runAsUser is "
                            "set and the image runs as root. Set runAsUser to a UID other than "
                            "0, or use an image that runs as another user."),
                          "security-context", "run-as-non-root"),
    "config-root-uid": (_("The kubelet refuses to start the container "
                          "(CreateContainerConfigError): runAsNonRoot is true but runAsUser is 0, "
                          "which is root. Pick another UID."),
                        "security-context", "run-as-non-root"),
    "mount-missing": (_("The kubelet cannot mount the volume %(volume)s: the %(object_kind)s "
                        "%(name)s does not exist. The container waits in ContainerCreating, "
                        "and the kubelet tries again with a growing delay (FailedMount)."),
                      "volumes", "configmap-secret"),
    "mount-hostpath": (_("The kubelet cannot mount the volume %(volume)s: %(path)s on the node "
                         "is not a %(what)s, which its hostPath type requires. The container "
                         "waits in ContainerCreating (FailedMount)."),
                       "volumes", "hostpath"),
    "node-not-ready": (_("The node %(node)s stopped reporting: after %(grace)d s without news "
                         "the node controller marks it Unknown and taints it unreachable, and "
                         "the Pod's Ready condition turns False. Its containers may still run "
                         "there, but nothing they do reaches the API server."),
                       "troubleshooting", "node-lost"),
    "taint-evict": (_("The node is still unreachable after the %(seconds)d s the Pod tolerates "
                      "(tolerationSeconds): the taint manager deletes the Pod. No controller "
                      "owns it, so nothing creates it again."),
                    "scheduling", "no-execute"),
    "taint-evict-owned": (_("The node is still unreachable after the %(seconds)d s the Pod "
                            "tolerates (tolerationSeconds): the taint manager deletes the Pod, "
                            "and its controller creates a replacement on a node that works."),
                          "scheduling", "no-execute"),
    "pull-secret-missing": (_("The Secret %(secrets)s named in imagePullSecrets does not exist, "
                              "so the kubelet pulls without credentials "
                              "(FailedToRetrieveImagePullSecret): a private registry will "
                              "refuse the pull."),
                            "images-and-pull-policy", "image-pull-secrets"),
    "mount-failed": (_("A volume cannot be mounted yet, so the container stays in "
                       "ContainerCreating; the kubelet retries."),
                     "volumes", "configmap-secret"),
    "sidecar-stop": (_("Every regular container has finished, so the kubelet stops the sidecar "
                       "%(container)s."),
                     "init-and-sidecar-containers", "sidecar-shutdown"),
    "sidecar-kill": (_("Every regular container has finished, so the kubelet stops the sidecar "
                       "%(container)s: SIGTERM now, SIGKILL after %(grace)d s "
                       "(%(grace_field)s)."),
                     "init-and-sidecar-containers", "sidecar-shutdown"),
    "manual-kill": (_("The signal %(signal)s, sent with the kill action, stopped the main "
                      "process."),
                    "termination", "signals"),
    "evicted-kill": (_("The container stops because the kubelet evicted the Pod."),
                     "resources-and-qos", "eviction"),
    "poststart-error": (_("The container is reported with PostStartHookError: its postStart "
                          "hook failed."),
                        "termination", "prestop"),
    "pull-backoff": (_("The kubelet waits before it tries to pull %(image)s again "
                       "(ImagePullBackOff: 10 s, doubling up to 300 s)."),
                     "images-and-pull-policy", "imagepullbackoff"),
    "probe-failed": (_("The %(probe)s failed: %(count)d of %(threshold)d failures in a row "
                       "(failureThreshold: %(threshold)d)."),
                     "probes", "restart-on-failure"),
    "probe-failed-last": (_("The %(probe)s failed: %(count)d of %(threshold)d failures in a "
                            "row. The threshold is reached."),
                          "probes", "restart-on-failure"),
    "probe-recovered": (_("The %(probe)s succeeded again: the failure count goes back to 0."),
                        "probes", "worker"),
    "probe-kill": (_("The %(probe)s failed %(threshold)d times in a row, so the kubelet kills "
                     "the container: it sends SIGTERM and gives it %(grace)d s (%(grace_field)s) "
                     "before SIGKILL."),
                   "probes", "restart-on-failure"),
    "delete-kill": (_("The Pod is being deleted (kubectl delete pod): the kubelet sends SIGTERM "
                      "and gives the container %(grace)d s (%(grace_field)s) before SIGKILL."),
                    "termination", "sequence"),
    "other-kill": (_("The kubelet stops the container: SIGTERM now, SIGKILL after %(grace)d s."),
                   "termination", "sequence"),
    "sigkill-shell": (_("SIGTERM changed nothing: the main process is a shell (%(shell)s) "
                        "running as PID 1, and PID 1 ignores SIGTERM unless it sets a trap. "
                        "After %(grace)d s the kubelet sent SIGKILL (exit code 137)."),
                      "termination", "signals"),
    "sigkill": (_("The process did not exit on SIGTERM, so after %(grace)d s the kubelet sent "
                  "SIGKILL (exit code 137)."),
                "termination", "signals"),
    "sigterm-exit": (_("The process exited %(after)s s after SIGTERM, within the grace period."),
                     "termination", "signals"),
    # the same moments for an image whose STOPSIGNAL is not SIGTERM (nginx, php-fpm: SIGQUIT)
    "probe-kill-signal": (_("The %(probe)s failed %(threshold)d times in a row, so the kubelet "
                            "kills the container: it sends %(signal)s (the image's STOPSIGNAL) "
                            "and gives it %(grace)d s (%(grace_field)s) before SIGKILL."),
                          "probes", "restart-on-failure"),
    "delete-kill-signal": (_("The Pod is being deleted (kubectl delete pod): the kubelet sends "
                             "%(signal)s (the image's STOPSIGNAL) and gives the container "
                             "%(grace)d s (%(grace_field)s) before SIGKILL."),
                           "termination", "sequence"),
    "namespace-kill": (_("The namespace %(namespace)s is being deleted (kubectl delete "
                         "namespace): the namespace controller deletes its Pods, so the "
                         "kubelet sends %(signal)s and gives the container %(grace)d s "
                         "(%(grace_field)s) before SIGKILL."),
                       "termination", "sequence"),
    "other-kill-signal": (_("The kubelet stops the container: %(signal)s (the image's "
                            "STOPSIGNAL) now, SIGKILL after %(grace)d s."),
                          "termination", "sequence"),
    "sigkill-signal": (_("The process did not exit on %(signal)s, so after %(grace)d s the "
                         "kubelet sent SIGKILL (exit code 137)."),
                       "termination", "signals"),
    "stop-exit": (_("The process exited %(after)s s after %(signal)s, within the grace "
                    "period."),
                  "termination", "signals"),
    "started": (_("The container %(container)s is running."),
                "restart-policy-and-backoff", "container-states"),
    "completed": (_("The main process exited with code 0 (Completed)."),
                  "restart-policy-and-backoff", "exit-codes"),
    "failed": (_("The main process exited with an error (%(reason)s)."),
               "restart-policy-and-backoff", "exit-codes"),
    "oom": (_("The process used more memory than its limit: the kernel killed it (OOMKilled, "
              "exit code 137)."),
            "resources-and-qos", "memory-limits"),
    "start-error": (_("The runtime could not start the process (%(reason)s)."),
                    "restart-policy-and-backoff", "exit-codes"),
    "restart": (_("The kubelet restarts the container (restartPolicy: %(policy)s): RESTARTS "
                  "is now %(count)d."),
                "restart-policy-and-backoff", "restart-policy"),
    "backoff": (_("Restarting in %(delay)d s: the back-off doubles after each crash "
                  "(10 s, 20 s, 40 s … up to 300 s). Status: CrashLoopBackOff."),
                "restart-policy-and-backoff", "crashloopbackoff"),
    "ready": (_("The container is ready: the Pod can receive traffic."),
              "probes", "readiness-failure"),
    "ready-no-probe": (_("The container is ready: it has no readiness probe, so it counts as "
                         "ready as soon as it runs."),
                       "probes", "readiness-failure"),
    "unready": (_("The container is no longer ready: the Pod stops receiving traffic."),
                "probes", "readiness-failure"),
    "init-waiting": (_("This container waits until every init container has completed."),
                     "init-and-sidecar-containers", "init-rules"),
    "phase": (_("The Pod's phase changes from %(old)s to %(new)s."),
              "phases-and-conditions", "computing-phase"),
    "phase-deleted": (_("The Pod's phase changes from %(old)s to %(new)s because it was "
                        "deleted and its containers stopped."),
                      "phases-and-conditions", "computing-phase"),
    "deadline": (_("activeDeadlineSeconds has passed: the Pod fails (DeadlineExceeded)."),
                 "phases-and-conditions", "computing-phase"),
    "evicted": (_("The kubelet evicted the Pod (reason Evicted)."),
                "resources-and-qos", "eviction"),
    "evicted-memory": (_("The kubelet evicted the Pod: the node was low on memory "
                         "(%(available)s available, below the eviction threshold of "
                         "%(threshold)s). Its container %(container)s was using %(usage)s with "
                         "a memory request of %(request)s: Pods that use more than they "
                         "request are evicted first."),
                       "resources-and-qos", "eviction"),
    "evicted-storage": (_("The kubelet evicted the Pod: the container %(container)s wrote "
                          "more than its ephemeral-storage limit (%(limit)s) in its "
                          "writable layer and logs."),
                        "resources-and-qos", "eviction"),
    "evicted-pod-storage": (_("The kubelet evicted the Pod: its containers' writable layers "
                              "and logs, with its emptyDir volumes, hold more than the sum of "
                              "its containers' ephemeral-storage limits (%(limit)s)."),
                            "resources-and-qos", "eviction"),
    "evicted-disk": (_("The kubelet evicted the Pod: the node was low on disk "
                       "(%(available)s available, below the eviction threshold of "
                       "%(threshold)s). Its container %(container)s was using %(usage)s with "
                       "an ephemeral-storage request of %(request)s: Pods that use more than "
                       "they request are evicted first."),
                     "resources-and-qos", "eviction"),
    "evicted-inodes": (_("The kubelet evicted the Pod: the node's file system was low on "
                         "inodes (%(available)s free, below the eviction threshold of "
                         "%(threshold)s). Every file and directory a container creates in its "
                         "writable layer or an emptyDir takes an inode; among Pods of the same "
                         "priority the one using the most goes first."),
                       "resources-and-qos", "eviction"),
    "evicted-pids": (_("The kubelet evicted the Pod: the node was running out of process IDs "
                       "(%(available)s left, below the eviction threshold of %(threshold)s set "
                       "in the kubelet's evictionHard). Pods of lower priority go first, and "
                       "among them the one running the most processes."),
                     "resources-and-qos", "eviction"),
    "evicted-node-condition": (_("The kubelet refused the Pod: the node reports %(conditions)s. "
                                 "Under disk or PID pressure the kubelet admits no new Pod (a "
                                 "toleration or spec.nodeName gets it past the scheduler, not "
                                 "past the kubelet); under memory pressure alone it refuses "
                                 "BestEffort Pods."),
                               "resources-and-qos", "eviction"),
    "node-disk-pressure": (_("Node %(node)s is low on disk space or inodes: the kubelet reports "
                             "DiskPressure "
                             "and the node controller taints the node "
                             "node.kubernetes.io/disk-pressure:NoSchedule. New Pods that do "
                             "not tolerate the taint are not scheduled there, and the kubelet "
                             "first deletes unused images, then evicts Pods."),
                           "resources-and-qos", "eviction"),
    "node-memory-pressure": (_("Node %(node)s is low on memory: the kubelet reports "
                               "MemoryPressure and the node controller taints the node "
                               "node.kubernetes.io/memory-pressure:NoSchedule. New Pods that "
                               "do not tolerate the taint are not scheduled there."),
                             "resources-and-qos", "eviction"),
    "node-pid-pressure": (_("Node %(node)s is running out of process IDs: the kubelet reports "
                            "PIDPressure and the node controller taints the node "
                            "node.kubernetes.io/pid-pressure:NoSchedule. New Pods that do not "
                            "tolerate the taint are not scheduled there, the kubelet admits no "
                            "new Pod, and it evicts Pods."),
                          "resources-and-qos", "eviction"),
    "node-pressure-over": (_("Node %(node)s no longer reports %(condition)s: the kubelet waits "
                             "5 minutes after the last low reading "
                             "(evictionPressureTransitionPeriod), then the taint %(taint)s is "
                             "removed and Pods can be scheduled there again."),
                           "resources-and-qos", "eviction"),
    "evicted-emptydir": (_("The kubelet evicted the Pod: the emptyDir volume %(volume)s holds "
                           "more than its sizeLimit (%(limit)s)."),
                         "resources-and-qos", "eviction"),
    "poststart-failed": (_("The postStart hook failed, so the kubelet kills the container."),
                         "termination", "prestop"),
    "prestop-failed": (_("The preStop hook failed; termination goes on."),
                       "termination", "prestop"),
    "waiting": (_("The container waits (%(reason)s)."),
                "restart-policy-and-backoff", "container-states"),
}


@functools.lru_cache(maxsize=1024)
def lesson_link(slug: str, anchor: str, *, lang: str) -> str:
    """The lesson section that teaches a moment, in ``lang``. URLs are fixed once the URLconf
    is loaded, and reversing one costs more than the rest of an entry."""
    with translation.override(lang):
        return reverse("course:lesson", kwargs={"slug": slug}) + f"#{anchor}"


SIGNAL_NAMES = {2: "SIGINT", 9: "SIGKILL", 15: "SIGTERM"}
#: image rules -> narration code (the transition says which failure it was)
IMAGE_CODES = {"image.pull-failed": "pull-failed", "image.pull-denied": "pull-denied",
               "image.pull-unreachable": "pull-unreachable", "image.never-pull": "never-pull",
               "image.invalid": "image-invalid"}


# --- the scheduler's and the eviction manager's messages, as data ----------------------------
#
# kube-scheduler's FailedScheduling message is ``FitError.Error()`` (pkg/scheduler/framework/
# types.go): "0/N nodes are available: " + the histogram of the filter plugins' reasons
# ("<count> <reason>", sorted, joined with ", ") + "." + the PostFilter (preemption) result.
# The eviction manager's message (pkg/kubelet/eviction/helpers.go) names the resource, the
# threshold and the container that used most. Both are kubectl's English; kubectl panes show
# them as they are. The narration reads them back into data so that it can say them in the
# page's language, and never quotes them.

#: a scheduler reason -> (what it means, the manifest field a learner changes)
FIT_REASONS: dict[str, tuple[Any, str]] = {
    sched.REASON_UNSCHEDULABLE: (_("the node is cordoned (spec.unschedulable)"), ""),
    sched.REASON_AFFINITY: (_("its labels do not match the Pod's nodeSelector or node "
                              "affinity"), "spec.nodeSelector"),
    sched.REASON_PORTS: (_("a hostPort the Pod asks for is already taken there"),
                         "spec.containers[].ports[].hostPort"),
    sched.REASON_TOO_MANY_PODS: (_("it already runs as many Pods as it may"), ""),
    sched.REASON_POD_AFFINITY: (_("no Pod there matches the Pod's podAffinity rules"),
                                "spec.affinity.podAffinity"),
    sched.REASON_POD_ANTI_AFFINITY: (_("a Pod there matches the Pod's podAntiAffinity rules"),
                                     "spec.affinity.podAntiAffinity"),
    sched.REASON_EXISTING_ANTI_AFFINITY: (_("a Pod there keeps this Pod away with its own "
                                            "podAntiAffinity rules"), ""),
    sched.PREEMPTION_NOT_HELPFUL: (_("evicting Pods there would not remove the reason"), ""),
    sched.NO_VICTIMS: (_("it runs no Pod of lower priority to evict"), ""),
}
_TAINT = re.compile(r"node\(s\) had untolerated taint \{(?P<taint>.*)\}")
_INSUFFICIENT = re.compile(r"Insufficient (?P<resource>\S+)")
_CLAIM = re.compile(r'persistentvolumeclaim "(?P<claim>[^"]*)" not found')
_FIT = re.compile(r"0/(?P<total>\d+) nodes are available:(?P<rest>.*)", re.S)
_CJK_SENTENCE_GAP = re.compile(r"(?<=[。！？]) +")
_HISTOGRAM_ITEM = re.compile(r"(?P<count>\d+) (?P<reason>.+)")
#: PostFilter results that are sentences, not a histogram
FIT_POST = {
    sched.NOT_ELIGIBLE_NEVER.removeprefix("preemption: "): "never",
    sched.NOT_ELIGIBLE_TERMINATING.removeprefix("preemption: "): "terminating",
}


def _histogram(text: str) -> list[list[Any]]:
    items: list[list[Any]] = []
    text = text.strip().removesuffix(".")
    for part in text.split(", ") if text else []:
        match = _HISTOGRAM_ITEM.fullmatch(part)
        if match:
            items.append([int(match["count"]), match["reason"]])
        else:
            items.append([0, part])  # a reason without a count (VolumeBinding's claim)
    return items


def parse_fit_error(message: str) -> dict[str, Any] | None:
    """``FitError.Error()`` as data: ``{"nodes": N, "reasons": [[count, reason]...],
    "preemption": [[count, reason]...], "post": "never" | "terminating" | ""}``; None for a
    message of another shape."""
    main, _sep, post = message.partition(" preemption: ")
    match = _FIT.fullmatch(main.strip())
    if match is None:
        return None
    rest = match["rest"].strip()
    out: dict[str, Any] = {"nodes": int(match["total"]), "reasons": [], "preemption": [],
                           "post": ""}
    out["reasons"] = _histogram(rest)
    if post:
        # FitError.Error() puts a period after the PostFilter message: a sentence then ends
        # in one, a preemption histogram (itself a FitError) in two ("... incoming pod..").
        post = post.strip().removesuffix(".")
        if post in FIT_POST:
            out["post"] = FIT_POST[post]
            return out
        again = _FIT.fullmatch(post)
        if again is None:
            return None
        out["preemption"] = _histogram(again["rest"])
    return out


def fit_reason_text(reason: str) -> str:
    """One scheduler reason in the active language."""
    known = FIT_REASONS.get(reason)
    if known is not None:
        return str(known[0])
    match = _TAINT.fullmatch(reason)
    if match and match["taint"] == f"{PRESSURE_TAINTS['DiskPressure']}: ":
        return gettext("it has the taint %(taint)s: the kubelet reports the node low on disk "
                       "(DiskPressure), and the Pod does not tolerate it") % {
            "taint": PRESSURE_TAINTS["DiskPressure"]}
    if match and match["taint"] == f"{PRESSURE_TAINTS['MemoryPressure']}: ":
        return gettext("it has the taint %(taint)s: the kubelet reports the node low on "
                       "memory (MemoryPressure), and the Pod does not tolerate it") % {
            "taint": PRESSURE_TAINTS["MemoryPressure"]}
    if match and match["taint"] == f"{PRESSURE_TAINTS['PIDPressure']}: ":
        return gettext("it has the taint %(taint)s: the kubelet reports the node short of "
                       "process IDs (PIDPressure), and the Pod does not tolerate it") % {
            "taint": PRESSURE_TAINTS["PIDPressure"]}
    if match:
        key, _colon, value = match["taint"].partition(": ")
        return gettext("it has the taint %(taint)s, which the Pod does not tolerate") % {
            "taint": f"{key}={value}" if value else key}
    match = _INSUFFICIENT.fullmatch(reason)
    if match:
        return gettext("not enough %(resource)s is left there for the Pod's requests") % {
            "resource": match["resource"]}
    match = _CLAIM.fullmatch(reason)
    if match:
        return gettext("the PersistentVolumeClaim %(claim)s does not exist") % {
            "claim": match["claim"]}
    return gettext("a reason the lab cannot put in words (kubectl describe pod shows it)")


def fit_reason_field(reason: str) -> str:
    """The manifest field a learner would change for this reason ("" when none)."""
    known = FIT_REASONS.get(reason)
    if known is not None:
        return known[1]
    if _TAINT.fullmatch(reason):
        return "spec.tolerations"
    if _INSUFFICIENT.fullmatch(reason):
        return "spec.containers[].resources.requests"
    if _CLAIM.fullmatch(reason):
        return "spec.volumes[].persistentVolumeClaim.claimName"
    return ""


def _histogram_text(items: list[list[Any]]) -> str:
    parts = []
    for count, reason in items:
        said = fit_reason_text(reason)
        parts.append(said if not count else ngettext(
            "%(count)d node: %(reason)s", "%(count)d nodes: %(reason)s", count) % {
            "count": count, "reason": said})
    return pgettext("between the parts of a list of reasons", "; ").join(parts)


def fit_text(fit: dict[str, Any]) -> str:
    """The whole FitError in the active language (what the narration says)."""
    reasons = fit.get("reasons") or []
    if reasons:
        text = gettext("The scheduler found no node for the Pod (0 of %(nodes)d fit): "
                       "%(reasons)s.") % {"nodes": fit.get("nodes", 0),
                                          "reasons": _histogram_text(reasons)}
    else:
        text = gettext("The scheduler found no node for the Pod: the cluster has no node "
                       "that it may use.")
    preemption = fit.get("preemption") or []
    if preemption and all(reason == sched.PREEMPTION_NOT_HELPFUL for _c, reason in preemption):
        text += " " + gettext("Preemption would not help: evicting Pods of lower priority "
                              "does not remove these reasons.")
    elif preemption:
        text += " " + gettext("Preemption would not help either: %(reasons)s.") % {
            "reasons": _histogram_text(preemption)}
    if fit.get("post") == "never":
        text += " " + gettext("The Pod may not preempt others (preemptionPolicy: Never).")
    elif fit.get("post") == "terminating":
        text += " " + gettext("A Pod it preempted is still terminating on the node it was "
                              "nominated for: it waits for that node.")
    text += " " + gettext("The scheduler tries again when the cluster changes.")
    return _CJK_SENTENCE_GAP.sub("", text)  # Chinese sentences follow one another unspaced


_CONFIG_MISSING = re.compile(r'(?P<kind>configmap|secret) "(?P<name>[^"]*)" not found')
_CONFIG_KEY = re.compile(r"couldn't find key (?P<key>\S+) in (?P<kind>ConfigMap|Secret) "
                         r"(?P<namespace>[^/\s]+)/(?P<name>\S+)")
_MOUNT = re.compile(r'MountVolume\.SetUp failed for volume "(?P<volume>[^"]*)" : (?P<error>.*)',
                    re.S)
_MOUNT_MISSING = re.compile(
    r'(?P<kind>configmap|secret|persistentvolumeclaim) "(?P<name>[^"]*)" not found')
_MOUNT_HOSTPATH = re.compile(
    r"hostPath type check failed: (?P<path>.*) is not a (?P<what>directory|file)")
#: the volume plugin's word -> (the kind, the field under spec.volumes[i] naming it)
MOUNT_SOURCES = {"configmap": ("ConfigMap", "configMap.name"),
                 "secret": ("Secret", "secret.secretName"),
                 "persistentvolumeclaim": ("PersistentVolumeClaim",
                                           "persistentVolumeClaim.claimName")}
_EVICT_MEMORY = re.compile(
    r"The node was low on resource: memory\. Threshold quantity: (?P<threshold>\S+), "
    r"available: (?P<available>\S+)\. Container (?P<container>\S+) was using (?P<usage>\S+), "
    r"request is (?P<request>\S+), has larger consumption of memory\.\s*")
_EVICT_STORAGE = re.compile(
    r'Container (?P<container>\S+) exceeded its local ephemeral storage limit '
    r'"(?P<limit>[^"]*)"\.\s*')
_EVICT_POD_STORAGE = re.compile(
    r"Pod ephemeral local storage usage exceeds the total limit of containers "
    r"(?P<limit>\S+)\.\s*")
#: nodefs pressure names every container over its request; the first one is told
_EVICT_DISK = re.compile(
    r"The node was low on resource: ephemeral-storage\. Threshold quantity: (?P<threshold>\S+), "
    r"available: (?P<available>\S+)\. Container (?P<container>\S+) was using (?P<usage>\S+), "
    r"request is (?P<request>\S+), has larger consumption of ephemeral-storage\.(?:\s.*)?",
    re.DOTALL)
_EVICT_INODES = re.compile(
    r"The node was low on resource: inodes\. Threshold quantity: (?P<threshold>\S+), "
    r"available: (?P<available>\S+)\.\s*")
_EVICT_PIDS = re.compile(
    r"The node was low on resource: pids\. Threshold quantity: (?P<threshold>\S+), "
    r"available: (?P<available>\S+)\.\s*")
_EVICT_NODE_CONDITION = re.compile(r"The node had condition: \[(?P<conditions>[^\]]*)\]\.\s*")
_EVICT_EMPTY_DIR = re.compile(
    r'Usage of EmptyDir volume "(?P<volume>[^"]*)" exceeds the limit "(?P<limit>[^"]*)"\.\s*')
#: eviction message pattern -> narration code
EVICT_CODES = ((_EVICT_MEMORY, "evicted-memory"), (_EVICT_STORAGE, "evicted-storage"),
               (_EVICT_POD_STORAGE, "evicted-pod-storage"), (_EVICT_DISK, "evicted-disk"),
               (_EVICT_EMPTY_DIR, "evicted-emptydir"), (_EVICT_INODES, "evicted-inodes"),
               (_EVICT_PIDS, "evicted-pids"),
               (_EVICT_NODE_CONDITION, "evicted-node-condition"))
#: node events of the kubelet's pressure conditions -> (narration code, condition)
NODE_PRESSURE_EVENTS = {
    "NodeHasDiskPressure": ("node-disk-pressure", "DiskPressure"),
    "NodeHasInsufficientMemory": ("node-memory-pressure", "MemoryPressure"),
    "NodeHasNoDiskPressure": ("node-pressure-over", "DiskPressure"),
    "NodeHasSufficientMemory": ("node-pressure-over", "MemoryPressure"),
    "NodeHasInsufficientPID": ("node-pid-pressure", "PIDPressure"),
    "NodeHasSufficientPID": ("node-pressure-over", "PIDPressure"),
}


def _mebibytes(text: str) -> str:
    """The eviction message's whole KiB as MiB, easier to compare with a 100Mi threshold."""
    match = re.fullmatch(r"(-?\d+)Ki", text)
    if match is None or abs(int(match[1])) < 10 * 1024:
        return text
    return f"{round(int(match[1]) / 1024)}Mi"


def parse_eviction(message: str) -> tuple[str, dict[str, str]]:
    """The eviction manager's message as (narration code, its values)."""
    for pattern, code in EVICT_CODES:
        match = pattern.fullmatch(message)
        if match:
            return code, match.groupdict()
    return "evicted", {}


@dataclass
class _Kill:
    t: float
    grace: int
    rule: str
    signal: str = "SIGTERM"  # the image's STOPSIGNAL, what the runtime sent first


@dataclass
class Narrator:
    """Narration of one simulation; ``take()`` returns what happened since the last call."""

    sim: Any
    specs: dict[str, dict[str, Any]]
    actions: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    _records: int = 0
    _transitions: int = 0
    _runs: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _seen_probe_t: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _kills: dict[tuple[str, str], _Kill] = field(default_factory=dict)
    _restarts: dict[tuple[str, str], int] = field(default_factory=dict)
    _ready_said: set[tuple[str, str]] = field(default_factory=set)
    _gated_said: set[str] = field(default_factory=set)
    _mounts_said: set[tuple[str, str]] = field(default_factory=set)  # and pull-secret warnings
    _fits_said: dict[str, str] = field(default_factory=dict)

    # --- collecting ------------------------------------------------------------------------

    def collect(self) -> list[dict[str, Any]]:
        """New entries (as data) since the last call; they are also kept in ``entries``."""
        items: list[tuple[float, int, int, Any]] = []
        records = self.sim.records
        for i in range(self._records, len(records)):
            record = records[i]
            if record.kind == "Event":
                items.append((record.t, 0, i, record))
        self._records = len(records)
        for i in range(self._transitions, len(self.sim.transitions)):
            tr = self.sim.transitions[i]
            items.append((tr.t, 1, i, tr))
        self._transitions = len(self.sim.transitions)
        # Only a success after failures changes a count: look at the probes' results only
        # when failures were counted before or come in this batch.
        failing = any(self._runs.values()) or any(
            item[3].object.get("reason") == "Unhealthy" for item in items if item[1] == 0)
        for worker in self.sim.probe_workers():
            key = (worker.pod.name, worker.slot.name, worker.kind)
            last = self._seen_probe_t.get(key, -1.0)
            for j, (t, ok, _output) in enumerate(worker.history if failing else ()):
                if t > last and ok:
                    items.append((t, 0, -1000 + j, ("probe-ok", worker)))
            if worker.history:
                self._seen_probe_t[key] = max(last, worker.history[-1][0])
        for pod, spec in list(self.specs.items()):
            gates = [g.get("name", "") for g in spec.get("schedulingGates") or []
                     if isinstance(g, dict)]
            if gates and pod not in self._gated_said:
                # No event tells it (the scheduler does not look at a gated Pod): the spec does.
                self._gated_said.add(pod)
                items.append((0.0, -1, 0, ("gated", pod, gates)))
        items.sort(key=lambda item: (item[0], item[1], item[2]))
        new: list[dict[str, Any]] = []
        for t, source, _i, obj in items:
            if isinstance(obj, tuple) and obj[0] == "gated":
                entry = self._entry(t, "schedule", "gated", pod=obj[1],
                                    cause="spec.schedulingGates", gates=", ".join(obj[2]))
            elif isinstance(obj, tuple):
                entry = self._probe_success(t, obj[1])
            elif source == 0:
                entry = self._event(t, obj.object)
            else:
                entry = self._transition(obj)
            if entry is not None:
                new.append(entry)
        self.entries.extend(new)
        return new

    def _pod_spec(self, pod: str) -> dict[str, Any]:
        """The Pod's spec as applied, or as its controller made it."""
        spec = self.specs.get(pod)
        if spec is None:
            made = self.sim.pod(pod)
            spec = (made or {}).get("spec") or {}
            if made is not None:
                self.specs[pod] = spec
        return spec

    def _spec(self, pod: str, container: str) -> dict[str, Any]:
        spec = self._pod_spec(pod)
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            if c.get("name") == container:
                return c
        return {}

    def _path(self, pod: str, container: str) -> str:
        spec = self._pod_spec(pod)
        for kind in ("initContainers", "containers"):
            for i, c in enumerate(spec.get(kind) or []):
                if c.get("name") == container:
                    return f"spec.{kind}[{i}]"
        return "spec"

    def _entry(self, t: float, kind: str, code: str, *, pod: str, container: str = "",
               cause: str = "", value: Any = None, rule: str = "", change: str = "",
               **params: Any) -> dict[str, Any]:
        entry = {"t": t, "kind": kind, "code": code, "pod": pod, "container": container,
                 "rule": rule, "change": change, "params": params}
        if cause:
            entry["field"] = cause
            if value is not None and not isinstance(value, dict | list):
                entry["value"] = value
        return entry

    # --- events ----------------------------------------------------------------------------

    def _event(self, t: float, event: dict[str, Any]) -> dict[str, Any] | None:
        reason = event.get("reason", "")
        involved = event.get("involvedObject") or {}
        if involved.get("kind") == "Node":
            known = NODE_PRESSURE_EVENTS.get(reason)
            if known is None:
                return None
            code, condition = known
            return self._entry(t, "evict", code, pod="", node=str(involved.get("name", "")),
                               condition=condition, taint=PRESSURE_TAINTS[condition])
        pod = involved.get("name", "")
        path = involved.get("fieldPath") or ""
        container = path[path.find("{") + 1:path.find("}")] if "{" in path else ""
        message = str(event.get("message", ""))
        base = self._path(pod, container)
        image = str(self._spec(pod, container).get("image", ""))
        if reason == "Scheduled":
            node = message.rsplit(" to ", 1)[-1] if " to " in message else ""
            return self._entry(t, "schedule", "scheduled", pod=pod, node=node)
        if reason == "FailedScheduling":
            return self._unschedulable(t, pod, message)
        if reason == "Pulling":
            return self._entry(t, "image", "pulling", pod=pod, container=container,
                               cause=base + ".image", value=image, image=image)
        if reason == "Pulled" and "already present" not in message:
            return self._entry(t, "image", "pulled", pod=pod, container=container,
                               cause=base + ".image", value=image, image=image)
        if reason == "Unhealthy":
            probe = message.split(" ", 1)[0].lower()
            if probe not in PROBE_FIELDS:
                return None
            return self._probe_failure(t, pod, container, probe)
        if reason == "Killing":
            return self._killing(t, pod, container, message,
                                 namespace=str(involved.get("namespace") or "default"))
        if reason == "FailedPostStartHook":
            return self._entry(t, "hook", "poststart-failed", pod=pod, container=container,
                               cause=base + ".lifecycle.postStart")
        if reason == "FailedPreStopHook":
            return self._entry(t, "hook", "prestop-failed", pod=pod, container=container,
                               cause=base + ".lifecycle.preStop")
        if reason == "Evicted":
            return self._evicted(t, pod, message)
        if reason == "FailedMount":
            return self._failed_mount(t, pod, message)
        if reason == "NodeNotReady":
            made = self.sim.pod(pod) or {}
            return self._entry(t, "evict", "node-not-ready", pod=pod,
                               node=str((made.get("spec") or {}).get("nodeName", "")),
                               grace=int(NODE_MONITOR_GRACE_PERIOD))
        if reason == "FailedToRetrieveImagePullSecret":
            if ("pull-secret", pod) in self._mounts_said:
                return None  # the kubelet warns at every pull
            self._mounts_said.add(("pull-secret", pod))
            names = re.search(r"\(([^)]*)\)", message)
            return self._entry(t, "image", "pull-secret-missing", pod=pod, container=container,
                               cause="spec.imagePullSecrets",
                               secrets=names[1] if names else "")
        if reason == "TaintManagerEviction":
            return self._taint_eviction(t, pod)
        return None

    def _taint_eviction(self, t: float, pod: str) -> dict[str, Any]:
        """The taint manager deleted the Pod: say after how long, from its toleration."""
        made = self.sim.pod(pod) or {}
        tolerations = (made.get("spec") or {}).get("tolerations") or []
        # (a Pod already gone had the admission's default toleration, or it would not have
        # been evicted on a timer)
        seconds, cause = DEFAULT_TOLERATION_SECONDS, "spec.tolerations"
        for i, toleration in enumerate(tolerations):
            if (isinstance(toleration, dict) and toleration.get("key") == TAINT_UNREACHABLE
                    and toleration.get("effect") in ("NoExecute", None)
                    and isinstance(toleration.get("tolerationSeconds"), int)):
                seconds = toleration["tolerationSeconds"]
                cause = f"spec.tolerations[{i}].tolerationSeconds"
                break
        owned = bool((made.get("metadata") or {}).get("ownerReferences"))
        return self._entry(t, "evict", "taint-evict-owned" if owned else "taint-evict",
                           pod=pod, cause=cause, value=seconds, seconds=seconds)

    def _failed_mount(self, t: float, pod: str, message: str) -> dict[str, Any] | None:
        """The first FailedMount of each volume (the kubelet repeats it at each retry)."""
        match = _MOUNT.fullmatch(message)
        volume = match["volume"] if match else ""
        if (pod, volume) in self._mounts_said:
            return None
        self._mounts_said.add((pod, volume))
        volumes = self._pod_spec(pod).get("volumes") or []
        index = next((i for i, v in enumerate(volumes)
                      if isinstance(v, dict) and v.get("name") == volume), None)
        base = f"spec.volumes[{index}]" if index is not None else "spec.volumes"
        error = match["error"] if match else ""
        missing = _MOUNT_MISSING.fullmatch(error)
        if missing:
            kind = MOUNT_SOURCES[missing["kind"]]
            return self._entry(t, "state", "mount-missing", pod=pod,
                               cause=f"{base}.{kind[1]}", value=missing["name"], volume=volume,
                               object_kind=kind[0], name=missing["name"])
        hostpath = _MOUNT_HOSTPATH.fullmatch(error)
        if hostpath:
            what = gettext_noop("directory") if hostpath["what"] == "directory" \
                else gettext_noop("file")
            return self._entry(t, "state", "mount-hostpath", pod=pod, cause=f"{base}.hostPath",
                               volume=volume, path=hostpath["path"], what=what)
        return self._entry(t, "state", "mount-failed", pod=pod, cause=base)

    def _unschedulable(self, t: float, pod: str, message: str) -> dict[str, Any]:
        fit = parse_fit_error(message)
        # The scheduler tries again every few minutes with the same verdict: say it once, and
        # again only when the reasons change.
        if self._fits_said.get(pod, "") == message:
            return None
        self._fits_said[pod] = message
        if fit is None:
            return self._entry(t, "schedule", "unschedulable", pod=pod)
        spec = self._pod_spec(pod)
        cause, value = "", None
        # the field behind the reason that rules out the most nodes
        for _count, reason in sorted(fit["reasons"], key=lambda item: -item[0]):
            cause = fit_reason_field(reason)
            if cause == "spec.nodeSelector" and not spec.get("nodeSelector"):
                cause = "spec.affinity.nodeAffinity"
            insufficient = _INSUFFICIENT.fullmatch(reason)
            if insufficient:
                cause, value = self._request(pod, insufficient["resource"])
            if cause:
                break
        return self._entry(t, "schedule", "unschedulable", pod=pod, cause=cause, value=value,
                           fit=fit)

    def _limit(self, pod: str, resource: str) -> tuple[str, Any]:
        """The first app container's limit of ``resource`` (path, value)."""
        for i, c in enumerate(self._pod_spec(pod).get("containers") or []):
            limits = ((c.get("resources") or {}).get("limits") or {})
            if resource in limits:
                return f"spec.containers[{i}].resources.limits.{resource}", limits[resource]
        return "spec.containers[].resources.limits", None

    def _request(self, pod: str, resource: str) -> tuple[str, Any]:
        """The first container's request of ``resource`` (path, value)."""
        for kind in ("initContainers", "containers"):
            for i, c in enumerate(self._pod_spec(pod).get(kind) or []):
                requests = ((c.get("resources") or {}).get("requests") or {})
                if resource in requests:
                    return f"spec.{kind}[{i}].resources.requests.{resource}", requests[resource]
        return "spec.containers[].resources.requests", None

    def _evicted(self, t: float, pod: str, message: str) -> dict[str, Any]:
        code, values = parse_eviction(message)
        container = values.pop("container", "")
        base = self._path(pod, container) if container else "spec"
        cause, value = "", None
        if code == "evicted-memory":
            requests = (self._spec(pod, container).get("resources") or {}).get("requests") or {}
            cause, value = f"{base}.resources.requests.memory", requests.get("memory")
            for key in ("available", "usage"):
                values[key] = _mebibytes(values[key])
        elif code == "evicted-storage":
            cause, value = f"{base}.resources.limits.ephemeral-storage", values["limit"]
        elif code == "evicted-pod-storage":
            cause, value = self._limit(pod, "ephemeral-storage")[0], values["limit"]
        elif code == "evicted-disk":
            requests = (self._spec(pod, container).get("resources") or {}).get("requests") or {}
            cause = f"{base}.resources.requests.ephemeral-storage"
            value = requests.get("ephemeral-storage")
            for key in ("available", "usage"):
                values[key] = _mebibytes(values[key])
        elif code == "evicted-emptydir":
            volumes = self._pod_spec(pod).get("volumes") or []
            index = next((i for i, v in enumerate(volumes)
                          if isinstance(v, dict) and v.get("name") == values["volume"]), None)
            if index is not None:
                cause, value = f"spec.volumes[{index}].emptyDir.sizeLimit", values["limit"]
        return self._entry(t, "evict", code, pod=pod, container=container, cause=cause,
                           value=value, **values)

    def _probe_spec(self, pod: str, container: str, probe: str) -> dict[str, Any]:
        return self._spec(pod, container).get(PROBE_FIELDS[probe]) or {}

    def _probe_failure(self, t: float, pod: str, container: str,
                       probe: str) -> dict[str, Any]:
        key = (pod, container, probe)
        count = self._runs.get(key, 0) + 1
        self._runs[key] = count
        spec = self._probe_spec(pod, container, probe)
        threshold = int(spec.get("failureThreshold", 3) or 3)
        shown = min(count, threshold)
        field_path = f"{self._path(pod, container)}.{PROBE_FIELDS[probe]}.failureThreshold"
        code = "probe-failed-last" if count >= threshold else "probe-failed"
        if count >= threshold:
            self._runs[key] = 0  # the kubelet acts and starts counting again
        return self._entry(t, "probe-failure", code, pod=pod, container=container,
                           cause=field_path, value=threshold, probe=probe, count=shown,
                           threshold=threshold)

    def _probe_success(self, t: float, worker: Any) -> dict[str, Any] | None:
        key = (worker.pod.name, worker.slot.name, worker.kind)
        if self._runs.get(key, 0) == 0:
            return None  # nothing to reset: a routine success changes no count
        self._runs[key] = 0
        pod, container = key[0], key[1]
        return self._entry(t, "probe-success", "probe-recovered", pod=pod, container=container,
                           cause=f"{self._path(pod, container)}.{PROBE_FIELDS[worker.kind]}",
                           probe=worker.kind)

    def _grace(self, pod: str, container: str, probe: str | None) -> tuple[int, str]:
        if probe is None:
            deletes = [a for a in self.actions if a.get("action") == "delete"
                       and a.get("pod") == pod]
            # the first delete sets the period; a later one can only shorten it
            if deletes:
                first = deletes[0].get("grace_period")
                own = self._pod_spec(pod).get("terminationGracePeriodSeconds")
                period = first if isinstance(first, int) else (
                    own if isinstance(own, int) else DEFAULT_GRACE)
                flag = isinstance(first, int)
                for action in deletes[1:]:
                    grace = action.get("grace_period")
                    if isinstance(grace, int) and grace < period:
                        period, flag = grace, True
                if flag:
                    return max(period, 0), "--grace-period"
        else:
            spec = self._probe_spec(pod, container, probe)
            if isinstance(spec.get("terminationGracePeriodSeconds"), int):
                return (spec["terminationGracePeriodSeconds"],
                        f"{PROBE_FIELDS[probe]}.terminationGracePeriodSeconds")
        pod_spec = self._pod_spec(pod)
        grace = pod_spec.get("terminationGracePeriodSeconds")
        if isinstance(grace, int):
            return grace, "terminationGracePeriodSeconds"
        return DEFAULT_GRACE, "terminationGracePeriodSeconds"

    def _killing(self, t: float, pod: str, container: str, message: str, *,
                 namespace: str = "default") -> dict[str, Any]:
        lowered = message.lower()
        probe = next((p for p in PROBE_FIELDS if f"failed {p} probe" in lowered), None)
        grace, grace_field = self._grace(pod, container, probe)
        base = self._path(pod, container)
        number = self.sim.stop_signal(pod, container)
        signal = "SIG" + PROCESS_SIGNALS.get(number, str(number))
        # SIGTERM keeps the plain wording; another STOPSIGNAL is named (``-signal`` codes)
        suffix = "" if signal == "SIGTERM" else "-signal"
        extra = {} if not suffix else {"signal": signal}
        if probe is not None:
            spec = self._probe_spec(pod, container, probe)
            threshold = int(spec.get("failureThreshold", 3) or 3)
            self._kills[(pod, container)] = _Kill(t, grace, f"{probe}.kill", signal)
            return self._entry(t, "kill", "probe-kill" + suffix, pod=pod, container=container,
                               rule=f"{probe}.kill",
                               cause=f"{base}.{PROBE_FIELDS[probe]}.failureThreshold",
                               value=threshold, probe=probe, threshold=threshold, grace=grace,
                               grace_field=grace_field, **extra)
        deleted = any(a.get("action") == "delete" and a.get("pod") == pod
                      and a.get("t", 0) <= t + 1e-6 for a in self.actions)
        if not deleted and self._sidecar(pod, container):
            self._kills[(pod, container)] = _Kill(t, grace, "sidecar.stop", signal)
            return self._entry(t, "kill", "sidecar-kill", pod=pod, container=container,
                               rule="sidecar.stop", cause=self._path(pod, container)
                               + ".restartPolicy", value="Always", grace=grace,
                               grace_field=grace_field)
        self._kills[(pod, container)] = _Kill(t, grace, "delete.kill" if deleted else "",
                                              signal)
        if not deleted and any(a.get("action") == "delete" and a.get("namespace") == namespace
                               and "pod" not in a and a.get("t", 0) <= t + 1e-6
                               for a in self.actions):
            # the namespace controller deletes the Pods of a deleted namespace
            return self._entry(t, "kill", "namespace-kill", pod=pod, container=container,
                               rule="delete.kill", cause="kubectl delete namespace",
                               namespace=namespace, signal=signal, grace=grace,
                               grace_field=grace_field)
        if deleted:
            return self._entry(t, "kill", "delete-kill" + suffix, pod=pod, container=container,
                               rule="delete.kill", cause="kubectl delete pod", grace=grace,
                               grace_field=grace_field, **extra)
        return self._entry(t, "kill", "other-kill" + suffix, pod=pod, container=container,
                           grace=grace, **extra)

    # --- transitions -----------------------------------------------------------------------

    def _transition(self, tr: Any) -> dict[str, Any] | None:
        entry = self._transition_entry(tr)
        if entry is not None:
            entry["rule"] = tr.rule
            if tr.old is not None and tr.new is not None:
                entry["change"] = f"{tr.field}: {_show(tr.old)} → {_show(tr.new)}"
        return entry

    def _transition_entry(self, tr: Any) -> dict[str, Any] | None:
        pod, container = tr.pod, tr.container
        cause = tr.cause or {}
        cause_field, cause_value = cause.get("field", ""), cause.get("value")
        if tr.field == "phase":
            deleted = any(a.get("action") == "delete" and a.get("pod") == pod
                          and a.get("t", 0) <= tr.t + 1e-6 for a in self.actions)
            if tr.rule == "pod.deadline":
                return self._entry(tr.t, "phase", "deadline", pod=pod, cause=cause_field,
                                   value=cause_value)
            if tr.rule == "pod.evicted":
                return None  # the Evicted event says it
            if deleted and tr.new in ("Failed", "Succeeded"):
                return self._entry(tr.t, "phase", "phase-deleted", pod=pod,
                                   cause="kubectl delete pod", old=tr.old, new=tr.new)
            if tr.new == "Running":
                # A container runs: the restart policy (the engine's cause for every phase
                # change) decides only between Succeeded and Failed, not this one.
                cause_field, cause_value = "", None
            return self._entry(tr.t, "phase", "phase", pod=pod, cause=cause_field,
                               value=cause_value, old=tr.old, new=tr.new)
        if tr.field == "restartCount":
            self._restarts[(pod, container)] = int(tr.new or 0)
            return None
        if tr.field == "ready":
            if tr.rule == "readiness.ready":
                code = "ready" if cause_value is not None else "ready-no-probe"
                if code == "ready-no-probe":
                    if (pod, container) in self._ready_said:
                        return None  # said once: without a probe it follows the state
                    self._ready_said.add((pod, container))
                return self._entry(tr.t, "ready", code, pod=pod, container=container,
                                   cause=cause_field if cause_value is not None else "",
                                   value=None)
            if tr.rule == "readiness.unready":
                if cause_value is None:
                    return None  # no readiness probe: the exit entry says it stopped
                return self._entry(tr.t, "ready", "unready", pod=pod, container=container)
            return None
        if tr.field != "state":
            return None
        new = str(tr.new)
        kind, _, reason = new.partition(":")
        if tr.rule == "restart.start":
            self._runs = {k: v for k, v in self._runs.items() if k[:2] != (pod, container)}
            policy = self._pod_spec(pod).get("restartPolicy", "Always")
            return self._entry(tr.t, "restart", "restart", pod=pod, container=container,
                               cause="spec.restartPolicy", value=policy, policy=policy,
                               count=self._restarts.get((pod, container), 0))
        if tr.rule == "restart.backoff":
            delay = cause.get("delay")
            if not isinstance(delay, int | float):
                n = self._restarts.get((pod, container), 0)
                delay = min(INITIAL_CRASH_BACKOFF * 2 ** n, MAX_CRASH_BACKOFF)
            return self._entry(tr.t, "backoff", "backoff", pod=pod, container=container,
                               cause="spec.restartPolicy", value=cause_value, delay=int(delay))
        if kind == "Running" and tr.rule == "container.started":
            self._runs = {k: v for k, v in self._runs.items() if k[:2] != (pod, container)}
            return self._entry(tr.t, "state", "started", pod=pod, container=container,
                               cause=cause_field, value=cause_value)
        if kind == "Terminated":
            kill = self._kills.pop((pod, container), None)
            if kill is not None and (tr.rule.endswith(".kill") or tr.rule == "sidecar.stop"):
                after = round(tr.t - kill.t, 1)
                if kill.signal != "SIGTERM":
                    if after >= kill.grace - 1e-6 and kill.grace > 0:
                        return self._entry(tr.t, "exit", "sigkill-signal", pod=pod,
                                           container=container, grace=kill.grace,
                                           signal=kill.signal)
                    return self._entry(tr.t, "exit", "stop-exit", pod=pod, container=container,
                                       after=_seconds(after), signal=kill.signal)
                if after >= kill.grace - 1e-6 and kill.grace > 0:
                    shell = self._shell(pod, container)
                    if shell:
                        return self._entry(tr.t, "exit", "sigkill-shell", pod=pod,
                                           container=container,
                                           cause=self._path(pod, container) + (
                                               ".command" if self._spec(pod, container).get(
                                                   "command") else ".args"),
                                           shell=shell, grace=kill.grace)
                    return self._entry(tr.t, "exit", "sigkill", pod=pod, container=container,
                                       grace=kill.grace)
                return self._entry(tr.t, "exit", "sigterm-exit", pod=pod, container=container,
                                   after=_seconds(after))
            if tr.rule == "sidecar.stop":
                return self._entry(tr.t, "kill", "sidecar-stop", pod=pod, container=container,
                                   cause=self._path(pod, container) + ".restartPolicy",
                                   value="Always")
            if tr.rule == "manual.kill":
                return self._entry(tr.t, "exit", "manual-kill", pod=pod, container=container,
                                   signal=SIGNAL_NAMES.get(cause_value, str(cause_value)))
            if tr.rule == "evicted.kill":
                return self._entry(tr.t, "exit", "evicted-kill", pod=pod, container=container)
            if tr.rule == "container.completed":
                return self._entry(tr.t, "exit", "completed", pod=pod, container=container)
            if tr.rule == "container.oom-killed":
                return self._entry(tr.t, "exit", "oom", pod=pod, container=container,
                                   cause=cause_field, value=cause_value)
            if tr.rule == "container.failed":
                return self._entry(tr.t, "exit", "failed", pod=pod, container=container,
                                   reason=reason or "Error")
            if tr.rule == "container.start-error":
                return self._entry(tr.t, "exit", "start-error", pod=pod, container=container,
                                   reason=reason or "StartError")
            return None
        if tr.rule in IMAGE_CODES:
            image = str(self._spec(pod, container).get("image", ""))
            return self._entry(tr.t, "image", IMAGE_CODES[tr.rule], pod=pod, container=container,
                               cause=self._path(pod, container) + ".image", value=image,
                               image=image)
        if tr.rule == "container.config-error":
            return self._config_error(tr.t, pod, container, str(cause_value or ""),
                                      reason or "CreateContainerConfigError")
        if tr.rule == "volume.mount-failed":
            return self._entry(tr.t, "state", "mount-failed", pod=pod, container=container,
                               cause=cause_field, value=cause_value)
        if tr.rule == "poststart.error":
            return self._entry(tr.t, "hook", "poststart-error", pod=pod, container=container,
                               cause=self._path(pod, container) + ".lifecycle.postStart")
        if kind == "Waiting" and tr.rule == "init.waiting":
            return self._entry(tr.t, "state", "init-waiting", pod=pod, container=container)
        if kind == "Waiting" and tr.rule == "image.pull-backoff":
            image = str(self._spec(pod, container).get("image", ""))
            return self._entry(tr.t, "image", "pull-backoff", pod=pod, container=container,
                               cause=self._path(pod, container) + ".image", value=image,
                               image=image)
        return None

    def _config_error(self, t: float, pod: str, container: str, message: str,
                      reason: str) -> dict[str, Any]:
        """The kubelet's error (kubectl's English) read back: which reference is missing, or
        which non-root rule the container breaks, with the field to change."""
        base = self._path(pod, container)
        match = _CONFIG_MISSING.fullmatch(message)
        if match:
            kind = "ConfigMap" if match["kind"] == "configmap" else "Secret"
            return self._entry(t, "state", "config-missing", pod=pod, container=container,
                               cause=self._env_ref(pod, container, kind, match["name"]),
                               object_kind=kind, name=match["name"])
        match = _CONFIG_KEY.fullmatch(message)
        if match:
            return self._entry(t, "state", "config-key", pod=pod, container=container,
                               cause=self._env_ref(pod, container, match["kind"], match["name"]),
                               object_kind=match["kind"], name=match["name"],
                               key=match["key"])
        for needle, code, key, value in (
                ("image will run as root", "config-root-image", "runAsNonRoot", True),
                ("runAsUser breaks non-root policy", "config-root-uid", "runAsUser", 0)):
            if needle in message:
                own = (self._spec(pod, container).get("securityContext") or {})
                where = f"{base}.securityContext" if key in own else "spec.securityContext"
                return self._entry(t, "state", code, pod=pod, container=container,
                                   cause=f"{where}.{key}", value=value)
        return self._entry(t, "state", "config-error", pod=pod, container=container,
                           cause=f"{base}.env", reason=reason)

    def _env_ref(self, pod: str, container: str, kind: str, name: str) -> str:
        """The env or envFrom entry of the container that names ``kind`` ``name``."""
        base = self._path(pod, container)
        spec = self._spec(pod, container)
        field_name = {"ConfigMap": ("configMapRef", "configMapKeyRef"),
                      "Secret": ("secretRef", "secretKeyRef")}[kind]
        for i, source in enumerate(spec.get("envFrom") or []):
            if ((source or {}).get(field_name[0]) or {}).get("name") == name:
                return f"{base}.envFrom[{i}].{field_name[0]}"
        for i, item in enumerate(spec.get("env") or []):
            ref = ((item or {}).get("valueFrom") or {}).get(field_name[1]) or {}
            if ref.get("name") == name:
                return f"{base}.env[{i}].valueFrom.{field_name[1]}"
        return f"{base}.env"

    def _sidecar(self, pod: str, container: str) -> bool:
        """An init container with restartPolicy: Always (a sidecar)."""
        return any(c.get("name") == container and c.get("restartPolicy") == "Always"
                   for c in self._pod_spec(pod).get("initContainers") or [])

    def _shell(self, pod: str, container: str) -> str:
        spec = self._spec(pod, container)
        argv = [str(a) for a in (spec.get("command") or []) + (spec.get("args") or [])]
        if argv and argv[0] in SHELLS and "trap" not in " ".join(argv):
            return argv[0]
        return ""


def _seconds(value: float) -> str:
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def render(entry: dict[str, Any], *, lang: str) -> dict[str, Any]:
    """One entry as the page shows it: ``text`` and ``lesson`` added, nothing left empty."""
    return render_all([entry], lang=lang)[0]


def render_all(entries: list[dict[str, Any]], *, lang: str) -> list[dict[str, Any]]:
    """Entries as the page shows them, in one switch of language (switching costs more than
    the wording)."""
    if not entries:
        return []
    out_list = []
    with translation.override(lang):
        for entry in entries:
            text, slug, anchor = TEXT[entry["code"]]
            params = {"pod": entry.get("pod", ""), "container": entry.get("container", ""),
                      **(entry.get("params") or {})}
            if "probe" in params:
                params["probe"] = str(PROBE_NAMES.get(params["probe"], params["probe"]))
            if "what" in params:
                params["what"] = gettext(params["what"])
            out = {k: v for k, v in entry.items() if v != ""}
            if entry["code"] == "unschedulable" and params.get("fit"):
                out["text"] = fit_text(params["fit"])
            else:
                out["text"] = str(text) % params
            if entry.get("field"):
                value = entry.get("value")
                out["cause"] = (gettext("Caused by %(field)s: %(value)s") % {
                    "field": entry["field"], "value": _show(value)} if value is not None
                    else gettext("Caused by %(field)s") % {"field": entry["field"]})
            out["lesson"] = lesson_link(slug, anchor, lang=lang)
            out_list.append(out)
    return out_list


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
