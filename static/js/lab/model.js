// What the page knows about the running lab, built from lab.snapshot and lab.frame messages,
// and the derived pictures (container lanes, termination sequences) the panes draw.

const EPOCH_MS = Date.UTC(2025, 0, 1, 0, 0, 0);
const MINIMUM_GRACE = 2;
// How far the page's clock may run ahead of the last frame (the server sends one at least
// every two seconds while playing).
const MAX_AHEAD_SECONDS = 2.5;
// Probe results the server keeps per probe (podlab.engine.kubelet.probes.HISTORY).
const PROBE_HISTORY = 10;
const LOG_PARTS = ["logs", "logs_previous"];
// The most of one log the page keeps (older text is dropped; "Show earlier lines" pages back).
const HELD_LOG_CHARS = 1024 * 1024;

/** Simulated seconds of an RFC 3339 timestamp on the engine's clock. */
export function simSeconds(timestamp) {
  if (typeof timestamp !== "string") return null;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? null : (ms - EPOCH_MS) / 1000;
}

/** "Waiting:CrashLoopBackOff" -> {kind: "Waiting", reason: "CrashLoopBackOff"}. */
export function splitState(value) {
  const text = String(value ?? "");
  const at = text.indexOf(":");
  return at < 0 ? { kind: text, reason: "" } : { kind: text.slice(0, at), reason: text.slice(at + 1) };
}

/** The container a v1 Event is about ("spec.containers{web}" -> "web"), or "". */
export function eventContainer(event) {
  const path = (event && event.involvedObject && event.involvedObject.fieldPath) || "";
  const m = /\{([^}]*)\}/.exec(path);
  return m ? m[1] : "";
}

export function eventPod(event) {
  const involved = (event && event.involvedObject) || {};
  if (involved.kind && involved.kind !== "Pod") return "";  // a node's event (DiskPressure...)
  return involved.name || "";
}

export function eventTime(event) {
  if (!event) return null;
  for (const key of ["lastTimestamp", "eventTime", "firstTimestamp"]) {
    const t = simSeconds(event[key]);
    if (t !== null) return t;
  }
  return null;
}

function probeKey(p) {
  return `${p.pod}/${p.container}/${p.probe}`;
}

export class LabModel {
  constructor() {
    this.reset();
    this.specs = new Map(); // pod name -> last spec seen (kept after the Pod is gone)
  }

  reset() {
    this.active = false;
    this.manifest = "";
    this.seed = 0;
    this.actions = [];
    this.t = 0;
    this.tAt = 0;
    this.until = 600;
    this.playing = false;
    this.speed = 10;
    this.nextT = null;
    this.settled = false;
    this.pods = [];
    this.views = {};
    // Long logs come as tails (logs_truncated): where each held log starts in the whole log,
    // by "logs:pod/c" or "logs_previous:pod/c" (0: the page holds it from its first line).
    this.logStart = {};
    // A message too large to send left the views out (views_omitted): they are from viewsT.
    this.viewsOmitted = false;
    this.viewsT = null;
    this.watchTruncated = null; // how many watch lines there were, when only the last came
    this.probes = [];
    this.transitions = [];
    this.events = [];
    this.narration = [];
    this.probeHistory = new Map();
  }

  rememberPods(pods) {
    for (const pod of pods || []) {
      const name = pod && pod.metadata && pod.metadata.name;
      if (name) this.specs.set(name, pod.spec || {});
    }
  }

  mergeProbes(probes, delta = false) {
    // A frame in which no probe ran carries no probes: the meters keep what they show.
    // `probes` lists every meter; `probes_delta` only those of the probes that ran.
    if (!Array.isArray(probes)) return;
    if (delta) {
      // A delta entry holds what moved (counters, result, next run) and only the new results:
      // merge it into the meter shown and append the results.
      const kept = new Map(this.probes.map((p) => [probeKey(p), p]));
      const fresh = new Map(probes.map((p) => {
        const old = kept.get(probeKey(p));
        const results = [...((old && old.results) || []), ...(p.results || [])].slice(-PROBE_HISTORY);
        return [probeKey(p), { ...(old || {}), ...p, results }];
      }));
      this.probes = this.probes.map((p) => fresh.get(probeKey(p)) || p);
      const known = new Set(this.probes.map(probeKey));
      for (const p of fresh.values()) if (!known.has(probeKey(p))) this.probes.push(p);
    } else {
      this.probes = probes;
    }
    for (const p of probes) {
      const key = probeKey(p);
      if (!this.probeHistory.has(key)) this.probeHistory.set(key, new Map());
      const seen = this.probeHistory.get(key);
      for (const r of p.results || []) {
        if (typeof r.t === "number" && r.t <= this.t + 1e-9) seen.set(r.t, r);
      }
    }
  }

  common(msg, mergeViews = false) {
    if (typeof msg.t === "number") {
      this.t = msg.t;
      this.tAt = performance.now();
    }
    if (typeof msg.playing === "boolean") this.playing = msg.playing;
    if (msg.speed !== undefined) this.speed = msg.speed;
    this.nextT = typeof msg.next_t === "number" ? msg.next_t : null;
    // The server says when nothing more will happen (only probe checks that change nothing).
    if (typeof msg.settled === "boolean") this.settled = msg.settled;
    // A frame in which nothing changed carries no pods and no views: keep the last ones.
    if (Array.isArray(msg.pods)) this.pods = msg.pods;
    // A frame may carry only some views (the logs, when only they changed).
    if (msg.views && typeof msg.views === "object") {
      // A snapshot's views replace all the page holds; without views (left out of a message
      // too large to send) the logs held, and where they start, stay.
      if (!mergeViews) this.logStart = {};
      const old = mergeViews ? this.views : {};
      this.views = mergeViews ? { ...this.views, ...msg.views } : { ...msg.views };
      const truncated = msg.logs_truncated && typeof msg.logs_truncated === "object" ? msg.logs_truncated : {};
      for (const part of LOG_PARTS) {
        if (msg.views[part] && typeof msg.views[part] === "object") {
          this.views[part] = this.mergeLogs(part, old[part] || {}, msg.views[part], truncated);
        }
      }
    }
    // A full message (it has the Pods) with views shows this moment; one that had to leave
    // them out keeps the last ones, from an earlier moment.
    if (msg.views_omitted) {
      this.viewsOmitted = true;
    } else if (msg.views && typeof msg.views === "object" && Array.isArray(msg.pods)) {
      this.viewsOmitted = false;
      this.viewsT = this.t;
      this.watchTruncated = Number.isInteger(msg.watch_truncated) ? msg.watch_truncated : null;
    } else if (!mergeViews) {
      this.viewsOmitted = false;
      this.viewsT = null;
      this.watchTruncated = null;
    }
    this.rememberPods(this.pods);
  }

  /** One part of the views (logs or logs_previous) from a message. A log cut to its tail
   * (listed in `truncated` with its whole length) that continues the text the page holds
   * keeps that text, earlier pages included, up to HELD_LOG_CHARS. */
  mergeLogs(part, oldLogs, newLogs, truncated) {
    const merged = {};
    for (const [key, raw] of Object.entries(newLogs)) {
      const text = String(raw ?? "");
      const id = `${part}:${key}`;
      const total = Number(truncated[id]);
      let start = Number.isFinite(total) && total > text.length ? total - text.length : 0;
      let held = text;
      const prev = oldLogs[key];
      const prevStart = this.logStart[id] || 0;
      if (start > 0 && typeof prev === "string" && prevStart <= start && prevStart + prev.length >= start) {
        const cut = start - prevStart;
        if (text.startsWith(prev.slice(cut))) {
          held = prev.slice(0, cut) + text;
          start = prevStart;
        }
      }
      if (held.length > HELD_LOG_CHARS) {
        const drop = held.length - HELD_LOG_CHARS;
        held = held.slice(drop);
        start += drop;
      }
      merged[key] = held;
      if (start > 0) this.logStart[id] = start;
      else delete this.logStart[id];
    }
    return merged;
  }

  /** A page of a log (lab.logs) just before the text the page holds: prepend it. False if
   * it no longer joins (the log moved on meanwhile). */
  prependLogs(msg) {
    const part = msg.previous ? "logs_previous" : "logs";
    const key = String(msg.container || "");
    const id = `${part}:${key}`;
    const logs = this.views[part] || {};
    const start = this.logStart[id] || 0;
    const text = String(msg.text ?? "");
    const offset = Number(msg.offset);
    if (!(key in logs) || !Number.isInteger(offset) || offset > start || offset + text.length < start) return false;
    this.views = { ...this.views, [part]: { ...logs, [key]: text.slice(0, start - offset) + logs[key] } };
    if (offset > 0) this.logStart[id] = offset;
    else delete this.logStart[id];
    return true;
  }

  applySnapshot(msg) {
    this.active = true;
    this.common(msg);
    if (typeof msg.until === "number") this.until = msg.until;
    if (Number.isInteger(msg.seed)) this.seed = msg.seed;
    this.actions = Array.isArray(msg.actions) ? msg.actions.slice() : [];
    const history = msg.history || {};
    this.transitions = Array.isArray(history.transitions) ? history.transitions.slice() : [];
    this.events = Array.isArray(history.events) ? history.events.slice() : [];
    this.narration = Array.isArray(history.narration) ? history.narration.slice() : [];
    this.probeHistory = new Map();
    this.mergeProbes(msg.probes);
  }

  applyFrame(msg) {
    this.common(msg, true);
    for (const tr of msg.transitions || []) this.transitions.push(tr);
    for (const ev of msg.events || []) this.events.push(ev);
    for (const entry of msg.narration || []) this.narration.push(entry);
    this.mergeProbes(msg.probes);
    this.mergeProbes(msg.probes_delta, true);
    if (msg.logs_append && typeof msg.logs_append === "object") {
      // Appended text continues the text held: where it starts does not move.
      const logs = { ...(this.views.logs || {}) };
      for (const [key, text] of Object.entries(msg.logs_append)) logs[key] = (logs[key] || "") + String(text);
      this.views = { ...this.views, logs };
    }
  }

  /**
   * The simulated time to show now: the server sends a frame only when something happened
   * (and at least every two seconds), so between frames the clock runs on at the lab's speed.
   */
  displayTime(now = performance.now()) {
    if (!this.playing || typeof this.speed !== "number" || !Number.isFinite(this.speed)) return this.t;
    const ahead = Math.max(0, (now - (this.tAt || now)) / 1000) * this.speed;
    const limit = Math.min(this.until, this.t + MAX_AHEAD_SECONDS * this.speed);
    return Math.max(this.t, Math.min(this.t + ahead, limit));
  }

  /** The lab as a link or a reconnect needs it. */
  restorable() {
    return { manifest: this.manifest, seed: this.seed, actions: this.actions, t: this.t };
  }

  /** Every container seen, in order: [{pod, name, kind: "init"|"sidecar"|"main"}]. */
  containers() {
    const out = [];
    const seen = new Set();
    const add = (pod, name, kind) => {
      const key = `${pod}/${name}`;
      if (!name || seen.has(key)) return;
      seen.add(key);
      out.push({ pod, name, kind });
    };
    const podNames = [];
    for (const pod of this.pods) podNames.push(pod.metadata.name);
    for (const tr of this.transitions) if (!podNames.includes(tr.pod)) podNames.push(tr.pod);
    for (const podName of podNames) {
      const spec = this.specs.get(podName) || {};
      for (const c of spec.initContainers || []) {
        add(podName, c.name, c.restartPolicy === "Always" ? "sidecar" : "init");
      }
      for (const c of spec.containers || []) add(podName, c.name, "main");
      for (const tr of this.transitions) if (tr.pod === podName && tr.container) add(podName, tr.container, "main");
    }
    return out;
  }

  podNames() {
    const names = [];
    for (const pod of this.pods) names.push(pod.metadata.name);
    for (const tr of this.transitions) if (!names.includes(tr.pod)) names.push(tr.pod);
    return names;
  }

  pod(name) {
    return this.pods.find((p) => p.metadata && p.metadata.name === name) || null;
  }

  containerSpec(podName, name) {
    const spec = this.specs.get(podName) || {};
    return [...(spec.initContainers || []), ...(spec.containers || [])].find((c) => c.name === name) || null;
  }

  /** The v1 ContainerStatus of a container, or null. */
  containerStatus(podName, name) {
    const pod = this.pod(podName);
    const status = (pod && pod.status) || {};
    const all = [...(status.initContainerStatuses || []), ...(status.containerStatuses || []),
      ...(status.ephemeralContainerStatuses || [])];
    return all.find((s) => s.name === name) || null;
  }

  /** State transitions of one container, in time order. */
  stateTransitions(podName, name) {
    return this.transitions.filter((tr) => tr.pod === podName && tr.container === name && tr.field === "state");
  }

  /** The container's current state {kind, reason, exitCode, restarts, ready, started}. */
  currentState(podName, name) {
    const status = this.containerStatus(podName, name);
    if (status && status.state) {
      const st = status.state;
      let out;
      if (st.running) out = { kind: "Running", reason: "" };
      else if (st.terminated) out = { kind: "Terminated", reason: st.terminated.reason || "", exitCode: st.terminated.exitCode };
      else out = { kind: "Waiting", reason: (st.waiting && st.waiting.reason) || "" };
      return { ...out, restarts: status.restartCount || 0, ready: Boolean(status.ready), started: status.started };
    }
    const list = this.stateTransitions(podName, name);
    if (!list.length) return { kind: "Waiting", reason: "", restarts: 0, ready: false };
    const last = splitState(list[list.length - 1].new);
    const restarts = this.transitions.filter((tr) => tr.pod === podName && tr.container === name && tr.field === "restartCount").length;
    return { ...last, restarts, ready: false };
  }

  /** The last state transition of a container (to animate its arrow), or null. */
  lastStateTransition(podName, name) {
    const list = this.stateTransitions(podName, name);
    return list.length ? list[list.length - 1] : null;
  }

  phase(podName) {
    const pod = this.pod(podName);
    if (pod && pod.status && pod.status.phase) return pod.status.phase;
    const list = this.transitions.filter((tr) => tr.pod === podName && tr.field === "phase");
    return list.length ? String(list[list.length - 1].new) : "Pending";
  }

  eventsFor(podName, container, reason) {
    return this.events.filter((ev) => eventPod(ev) === podName
      && (container === null || eventContainer(ev) === container)
      && (!reason || ev.reason === reason));
  }

  /** Probe results so far for a container: [{t, ok, probe}]. */
  probeTicks(podName, name) {
    const out = [];
    for (const [key, results] of this.probeHistory) {
      const [pod, container, probe] = key.split("/");
      if (pod !== podName || container !== name) continue;
      for (const r of results.values()) out.push({ t: r.t, ok: Boolean(r.ok), probe, message: r.message || "" });
    }
    if (!out.length) {
      // Without a probe report, failures are still visible as Unhealthy events.
      const seen = new Set();
      for (const ev of this.eventsFor(podName, name, "Unhealthy")) {
        const t = eventTime(ev);
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        const probe = /^(\w+) probe/i.exec(ev.message || "");
        out.push({ t, ok: false, probe: probe ? probe[1].toLowerCase() : "", message: ev.message || "" });
      }
    }
    return out.sort((a, b) => a.t - b.t);
  }

  /** The grace period the kubelet gives a container killed at `t`. */
  graceAt(podName, name, t, rule) {
    const spec = this.specs.get(podName) || {};
    const pod = this.pod(podName);
    if (rule === "delete.kill" || rule === undefined) {
      // the first delete sets the period; a later one only shortens it (the API server keeps
      // a pending deletion's longer or unspecified period)
      const deletes = this.actions.filter((a) => a.action === "delete" && a.pod === podName && a.t <= t + 1e-6);
      if (deletes.length && deletes.some((a) => Number.isInteger(a.grace_period))) {
        const own = Number.isInteger(spec.terminationGracePeriodSeconds) ? spec.terminationGracePeriodSeconds : 30;
        let period = Number.isInteger(deletes[0].grace_period) ? deletes[0].grace_period : own;
        for (const a of deletes.slice(1)) {
          if (Number.isInteger(a.grace_period) && a.grace_period < period) period = a.grace_period;
        }
        return Math.max(period, MINIMUM_GRACE);
      }
      const meta = pod && pod.metadata;
      if (meta && Number.isInteger(meta.deletionGracePeriodSeconds)) return Math.max(meta.deletionGracePeriodSeconds, MINIMUM_GRACE);
    }
    if (rule === "liveness.kill" || rule === "startup.kill") {
      const c = this.containerSpec(podName, name) || {};
      const probe = rule === "liveness.kill" ? c.livenessProbe : c.startupProbe;
      if (probe && Number.isInteger(probe.terminationGracePeriodSeconds)) {
        return Math.max(probe.terminationGracePeriodSeconds, MINIMUM_GRACE);
      }
    }
    const g = spec.terminationGracePeriodSeconds;
    return Math.max(Number.isInteger(g) ? g : 30, MINIMUM_GRACE);
  }

  /**
   * One lane of the timeline: state segments, exits, termination sequences, probe ticks.
   * Segments: [{from, to, kind, reason}]. Exits: [{t, reason, rule, killed}].
   * Terminations: [{start, grace, end, preStop, sigkill}].
   */
  lane(podName, name) {
    const list = this.stateTransitions(podName, name);
    const segments = [];
    const exits = [];
    for (let i = 0; i < list.length; i += 1) {
      const tr = list[i];
      const next = list[i + 1];
      const state = splitState(tr.new);
      segments.push({ from: tr.t, to: next ? next.t : this.t, kind: state.kind, reason: state.reason, rule: tr.rule });
      if (state.kind === "Terminated") exits.push({ t: tr.t, reason: state.reason, rule: tr.rule });
    }
    const spec = this.containerSpec(podName, name) || {};
    const hasPreStop = Boolean(spec.lifecycle && spec.lifecycle.preStop);
    const terminations = [];
    const kills = this.eventsFor(podName, name, "Killing")
      .map((ev) => ({ t: eventTime(ev), message: ev.message || "" }))
      .filter((k) => k.t !== null);
    const seenKill = new Set();
    for (const kill of kills) {
      if (seenKill.has(kill.t)) continue;
      seenKill.add(kill.t);
      const exit = exits.find((x) => x.t >= kill.t - 1e-6) || null;
      const rule = exit ? exit.rule : undefined;
      const grace = this.graceAt(podName, name, kill.t, rule);
      const end = exit ? exit.t : null;
      const sigkill = exit !== null && exit.t >= kill.t + grace - 1e-6;
      // the runtime's first signal is the image's STOPSIGNAL (the narration names it when it
      // is not SIGTERM: nginx and php-fpm stop on SIGQUIT)
      const told = this.narration.find((e) => e.kind === "kill" && e.pod === podName && e.container === name
        && Math.abs(e.t - kill.t) < 1e-6 && e.params && e.params.signal);
      const signal = told ? told.params.signal : "SIGTERM";
      if (exit) exit.killed = sigkill ? "SIGKILL" : signal;
      terminations.push({
        start: kill.t,
        signal,
        grace,
        end,
        preStop: hasPreStop,
        preStopFailed: this.eventsFor(podName, name, "FailedPreStopHook").some((ev) => {
          const t = eventTime(ev);
          return t !== null && t >= kill.t && (end === null || t <= end);
        }),
        sigkill,
        message: kill.message,
      });
    }
    const hooks = this.eventsFor(podName, name, "FailedPostStartHook").map((ev) => ({ t: eventTime(ev), name: "postStart" }));
    return { segments, exits, terminations, hooks, probes: this.probeTicks(podName, name), hasPostStart: Boolean(spec.lifecycle && spec.lifecycle.postStart) };
  }

  /** Phase segments of a Pod: [{from, to, phase}]. */
  phaseLane(podName) {
    const list = this.transitions.filter((tr) => tr.pod === podName && tr.field === "phase");
    const segments = [];
    let from = 0;
    let phase = "Pending";
    const first = this.transitions.find((tr) => tr.pod === podName);
    if (first) from = first.t;
    for (const tr of list) {
      if (tr.t > from) segments.push({ from, to: tr.t, phase });
      from = tr.t;
      phase = String(tr.new);
    }
    const gone = !this.pod(podName) && this.podNames().includes(podName);
    // A Pod that is gone ends where its last change was, not at the clock.
    const last = this.transitions.filter((tr) => tr.pod === podName).pop();
    const to = gone && last ? Math.max(from, last.t) : this.t;
    segments.push({ from, to, phase, gone });
    return segments;
  }
}
