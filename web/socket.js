// The live channel (docs/protocol.md): one WebSocket at a time, reconnects with capped
// exponential backoff (longer after being rate limited), stops for good on the close codes that
// say retrying cannot help, and keeps unacknowledged sends in a queue that is replayed with the
// same client_id after every `hello` (the server deduplicates, so a replay never doubles a message).

const HEARTBEAT_MS = 20000;
const SILENCE_LIMIT_MS = 45000;
const RATE_LIMITED_PAUSE_MS = 15000;

/** Close codes after which reconnecting cannot help, with the reason shown to the user. */
function fatalReason(event) {
  if (event.code === 1009) return 'too_big';
  if (event.code === 1008) return /too many connections/i.test(event.reason) ? 'too_many' : 'policy';
  return null;
}

/**
 * Events: `status` ('connecting' | 'reconnecting' | 'online' | 'stopped'), `hello` (frame),
 * `frame` (every other frame but `pong`), `stopped` (reason), `ended` (4001: the session is
 * over), `disconnected` (close event).
 */
export class ChatSocket extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.ready = false;          // hello received on the current connection
    this.stopped = false;
    this.attempt = 0;
    this.outbox = new Map();     // client_id -> send frame, in insertion order
    this.retryTimer = null;
    this.heartbeat = null;
    this.lastFrameAt = 0;
    this.pausedUntil = 0;        // after 4002 (rate limited): no reconnect before this time
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

  /** Opens a socket unless one is already connecting or open. */
  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    const state = this.ws?.readyState;
    if (state === WebSocket.CONNECTING || state === WebSocket.OPEN) return;
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
      this.emit('hello', frame);   // the listener sends `sync` first
      for (const send of this.outbox.values()) this.raw(send);
      this.emit('status', 'online');
      return;
    }
    if (frame.type === 'ack') this.outbox.delete(frame.client_id);
    if (frame.type === 'error' && frame.ref && this.outbox.has(frame.ref)) {
      // The server refused this send (not a member, rate limited, …): the user decides to retry.
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
    const fatal = fatalReason(event);
    if (fatal) {
      this.stopped = true;
      this.emit('status', 'stopped');
      this.emit('stopped', fatal);
      return;
    }
    this.emit('status', 'reconnecting');
    this.emit('disconnected', event);
    let delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.6 + Math.random() * 0.4);
    if (event.code === 4002) delay = RATE_LIMITED_PAUSE_MS * (1 + Math.random() * 0.5);
    this.pausedUntil = event.code === 4002 ? Date.now() + delay : 0;
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnects at once (the network came back), unless the server asked for a pause. */
  reconnectNow() {
    if (this.ready || Date.now() < this.pausedUntil) return;
    this.attempt = 0;
    this.connect();
  }

  /** Starts again after a stop for a fatal close (the user pressed "Try again"). */
  restart() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
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

  /** Sends a frame now if connected (typing, read, edit, sync); false when offline. */
  raw(frame) {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Queues a `send` frame until acked; it goes out now if connected, else after the next hello. */
  sendMessage(frame) {
    this.outbox.set(frame.client_id, frame);
    this.raw(frame);
  }

  get online() {
    return this.ready;
  }
}
