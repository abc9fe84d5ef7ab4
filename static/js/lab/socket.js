// The lab's websocket: JSON messages (docs/protocol.md), reconnect with back-off, gap
// detection through `seq` (a gap asks the server for lab.sync).

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export class LabSocket {
  /**
   * url: ws(s)://host/ws/lab/?lang=xx
   * handlers: onMessage(msg), onState(state, info) with state "connecting" | "open" |
   * "waiting" (info: {seconds, attempt}).
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.lastSeq = null;
    this.timer = null;
    this.countdown = null;
    this.closedByPage = false;
    window.addEventListener("online", () => this.retryNow());
    window.addEventListener("pagehide", () => this.close());
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    this.clearTimers();
    this.closedByPage = false;
    this.handlers.onState("connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.lastSeq = null;
      this.handlers.onState("open", {});
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.closedByPage) this.scheduleRetry();
    });
    ws.addEventListener("error", () => {
      // A close event follows; the retry is scheduled there.
    });
  }

  receive(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (err) {
      this.handlers.onMessage({ type: "client.bad_message" });
      return;
    }
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") {
      this.handlers.onMessage({ type: "client.bad_message" });
      return;
    }
    if (typeof msg.seq === "number") {
      const gap = this.lastSeq !== null && msg.seq !== this.lastSeq + 1;
      this.lastSeq = msg.seq;
      if (gap && msg.type !== "lab.snapshot") {
        this.send({ type: "lab.sync" });
      }
    }
    this.handlers.onMessage(msg);
  }

  send(message) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  scheduleRetry() {
    this.clearTimers();
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const jitter = Math.round(delay * 0.2 * Math.random());
    this.attempt += 1;
    const due = Date.now() + delay + jitter;
    const tick = () => {
      const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      this.handlers.onState("waiting", { seconds: left, attempt: this.attempt });
    };
    tick();
    this.countdown = window.setInterval(tick, 1000);
    this.timer = window.setTimeout(() => this.connect(), delay + jitter);
  }

  retryNow() {
    if (this.ws === null && !this.closedByPage) this.connect();
  }

  clearTimers() {
    if (this.timer !== null) window.clearTimeout(this.timer);
    if (this.countdown !== null) window.clearInterval(this.countdown);
    this.timer = null;
    this.countdown = null;
  }

  /** Close for good (page leaving); no retry. */
  close() {
    this.closedByPage = true;
    this.clearTimers();
    if (this.ws) this.ws.close();
  }
}
