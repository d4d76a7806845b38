// The live channel (docs/protocol.md): connects, resumes with `sync` after every (re)connect,
// reconnects with capped exponential backoff, and keeps unacknowledged sends in a queue that is
// replayed with the same client_id (the server deduplicates, so a replay never doubles a message).

const HEARTBEAT_MS = 20000;
const SILENCE_LIMIT_MS = 45000;

export class ChatSocket extends EventTarget {
  /** @param {{ getSyncState: () => Record<string, number> }} opts */
  constructor({ getSyncState }) {
    super();
    this.getSyncState = getSyncState;
    this.ws = null;
    this.ready = false;          // hello received on the current connection
    this.stopped = false;
    this.attempt = 0;
    this.outbox = new Map();     // client_id -> send frame, in insertion order
    this.retryTimer = null;
    this.heartbeat = null;
    this.lastFrameAt = 0;
    this.onOnline = () => this.reconnectNow();
  }

  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    if (this.ws) this.ws.close(1000, 'bye');
  }

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    this.ws = ws;
    this.emit('status', this.attempt === 0 ? 'connecting' : 'reconnecting');
    ws.addEventListener('message', (e) => this.onFrame(ws, e.data));
    ws.addEventListener('close', (e) => this.onClose(ws, e));
    // 'error' is always followed by 'close'; nothing to do here.
  }

  onFrame(ws, data) {
    if (ws !== this.ws) return;
    this.lastFrameAt = Date.now();
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    if (!frame || typeof frame.type !== 'string') return;
    if (frame.type === 'hello') {
      this.ready = true;
      this.attempt = 0;
      this.startHeartbeat();
      this.emit('hello', frame);
      this.raw({ type: 'sync', rooms: this.getSyncState() });
      for (const send of this.outbox.values()) this.raw(send);
      this.emit('status', 'online');
      return;
    }
    if (frame.type === 'ack') this.outbox.delete(frame.client_id);
    if (frame.type === 'error' && frame.ref && this.outbox.has(frame.ref)) {
      // The server refused this send for good (e.g. not a member): replaying would not help.
      this.outbox.delete(frame.ref);
    }
    if (frame.type === 'pong') return;
    this.emit('frame', frame);
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ready = false;
    clearInterval(this.heartbeat);
    if (this.stopped) return;
    if (event.code === 4001) {
      this.stopped = true;
      this.emit('ended', event);
      return;
    }
    this.emit('status', 'reconnecting');
    this.emit('disconnected', event);
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.6 + Math.random() * 0.4);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.ready) return;
    this.attempt = 0;
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) return;
    this.connect();
  }

  startHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (!this.ready) return;
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        this.ws.close(4000, 'silent');   // half-open connection: force a reconnect
        return;
      }
      this.raw({ type: 'ping' });
    }, HEARTBEAT_MS);
  }

  raw(frame) {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a frame that may be dropped when offline (typing, read, edit, delete). */
  send(frame) {
    return this.raw(frame);
  }

  /** Queues a `send` frame until acked; it goes out now if connected, else after the next resume. */
  sendMessage(frame) {
    this.outbox.set(frame.client_id, frame);
    this.raw(frame);
  }

  get online() {
    return this.ready;
  }
}
