// Outgoing messages and edits: each one is shown at once (a pending bubble, or the new text),
// saved in the outbox so a reload does not lose it, uploaded (with progress) and sent in the
// order it was made, and forgotten when the server confirms it. A send the server refuses stays
// on screen with the reason and a retry.

import { api } from './api.js';
import { newClientId } from './util/format.js';

/** Attempts at an edit the server never confirms before it is dropped. */
const EDIT_ATTEMPTS = 3;

export class Sender {
  /**
   * @param {{ store, socket, outbox, onFailed: (pending) => void }} deps
   */
  constructor({ store, socket, outbox, onFailed }) {
    this.store = store;
    this.socket = socket;
    this.outbox = outbox;
    this.onFailed = onFailed;
    this.records = new Map();   // client_id -> outbox record of an unsent message
    this.edits = new Map();     // "room:seq" -> outbox record of an unconfirmed edit
    this.pumping = false;
    this.pumpAgain = false;     // pump() was called while it ran
    this.localUrls = new Map(); // client_id -> object URL of a pending image (revoked when done)
  }

  /** Shows and resumes what a previous page left unsent. */
  async restore() {
    for (const record of await this.outbox.all()) {
      if (!this.store.rooms.has(record.room_id)) { await this.outbox.delete(record.key); continue; }
      if (record.kind === 'edit') {
        this.edits.set(editKey(record.room_id, record.seq), record);
        this.store.setPendingEdit(record.room_id, record.seq, record.body);
      } else {
        this.records.set(record.client_id, record);
        this.store.addPending(this.pendingOf(record));
      }
    }
    this.pump();
  }

  /** Sends a message: text, or media bytes (uploaded first) with an optional caption. */
  async send(roomId, { body = '', replyTo = null, blob = null, mime = null }) {
    const clientId = newClientId();
    const record = {
      key: `s:${clientId}`, kind: 'send', client_id: clientId, room_id: roomId, body,
      reply_to: replyTo, blob, mime, media: null, created_at: new Date().toISOString(),
    };
    this.records.set(clientId, record);
    this.store.addPending(this.pendingOf(record));
    await this.save(record);
    this.pump();
  }

  /**
   * Sends the next messages in order; one waiting for its upload holds back those after it.
   * Messages added while an upload runs are picked up when it is done.
   */
  async pump() {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.pumpOnce();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  async pumpOnce() {
    for (const record of [...this.records.values()]) {
      const pending = this.store.pending.get(record.client_id);
      if (!pending || pending.failed || pending.dispatched) continue;
      if (record.blob && !record.media && !(await this.upload(record))) {
        if (this.store.pending.get(record.client_id)?.failed) continue;   // refused: the rest go on
        return;   // offline: wait, keeping the order
      }
      this.dispatch(record);
    }
  }

  /** Uploads a record's bytes; false when it did not (offline, or refused: then it is marked failed). */
  async upload(record) {
    const { store } = this;
    store.patchPending(record.client_id, { progress: 0 });
    try {
      const media = await api.uploadMedia(record.room_id, record.blob, record.mime,
        (progress) => store.patchPending(record.client_id, { progress }));
      record.media = media;
      record.blob = null;   // the server has the bytes now; the outbox need not keep them
      await this.save(record);
      store.patchPending(record.client_id, { media: { ...media, local: store.pending.get(record.client_id)?.media?.local }, progress: null });
      return true;
    } catch (err) {
      if (err.code === 'network') store.patchPending(record.client_id, { progress: null });
      else this.fail(record.client_id, err.code);
      return false;
    }
  }

  dispatch(record) {
    this.store.patchPending(record.client_id, { dispatched: true });
    this.socket.sendMessage({
      type: 'send', room_id: record.room_id, body: record.body, client_id: record.client_id,
      reply_to: record.reply_to ?? null, media_id: record.media?.id ?? null,
    });
  }

  /** The connection is back: uploads that waited for it go on, unconfirmed edits are re-sent. */
  resume() {
    for (const record of this.edits.values()) this.sendEdit(record);
    this.pump();
  }

  /** The server confirmed a message (ack, or the message itself came back). */
  async confirmed(clientId) {
    const record = this.records.get(clientId);
    if (!record) return;
    this.records.delete(clientId);
    this.revoke(clientId);
    this.store.removePending(clientId);
    await this.forget(record.key);
  }

  /** The server refused a send (an `error` with our client_id as `ref`). */
  refused(clientId, code) {
    if (this.records.has(clientId)) this.fail(clientId, code);
  }

  fail(clientId, code) {
    this.store.patchPending(clientId, { failed: code || 'unknown', failedAt: Date.now(), dispatched: false, progress: null });
    const pending = this.store.pending.get(clientId);
    if (pending) this.onFailed(pending);
  }

  /** Tries a refused message again (same client_id: never stored twice). */
  retry(clientId) {
    if (!this.records.has(clientId)) return;
    this.store.patchPending(clientId, { failed: null });
    this.pump();
  }

  /** Gives up on an unsent message. */
  async discard(clientId) {
    const record = this.records.get(clientId);
    if (!record) return;
    this.records.delete(clientId);
    this.socket.outbox.delete(clientId);
    this.revoke(clientId);
    this.store.removePending(clientId);
    await this.forget(record.key);
  }

  /** Edits an own message: shown at once, sent now or after the next reconnect. */
  async edit(roomId, seq, body) {
    const record = { key: `e:${this.outbox.user}:${roomId}:${seq}`, kind: 'edit', room_id: roomId, seq, body, attempts: 0 };
    this.edits.set(editKey(roomId, seq), record);
    this.store.setPendingEdit(roomId, seq, body);
    await this.save(record);
    this.sendEdit(record);
  }

  sendEdit(record) {
    if (record.attempts >= EDIT_ATTEMPTS) {
      this.editSettled(record.room_id, record.seq);
      return;
    }
    if (this.socket.raw({ type: 'edit', room_id: record.room_id, seq: record.seq, body: record.body })) record.attempts += 1;
  }

  /** An `edited` or `deleted` event arrived for a message: any edit of ours waiting on it is done. */
  async editSettled(roomId, seq) {
    const record = this.edits.get(editKey(roomId, seq));
    if (!record) return;
    this.edits.delete(editKey(roomId, seq));
    this.store.setPendingEdit(roomId, seq, null);
    await this.forget(record.key);
  }

  /** The pending message the views show for a record (with a local preview of its image). */
  pendingOf(record) {
    let media = record.media;
    if (record.blob) {
      let local = null;
      if (record.mime?.startsWith('image/')) {
        local = URL.createObjectURL(record.blob);
        this.localUrls.set(record.client_id, local);
      }
      media = { mime: record.mime, size: record.blob.size, local };
    }
    return {
      client_id: record.client_id, room_id: record.room_id, body: record.body, reply_to: record.reply_to,
      media, pending: true, failed: null, progress: null, dispatched: false,
      sender: { id: this.store.me.id, display_name: this.store.me.display_name },
      created_at: record.created_at, edited_at: null, deleted: false,
    };
  }

  revoke(clientId) {
    const url = this.localUrls.get(clientId);
    if (url) URL.revokeObjectURL(url);
    this.localUrls.delete(clientId);
  }

  async save(record) {
    try { await this.outbox.put(record); } catch { /* storage refused: it still goes out from memory */ }
  }

  async forget(key) {
    try { await this.outbox.delete(key); } catch { /* nothing to do: it is gone from memory */ }
  }
}

const editKey = (roomId, seq) => `${roomId}:${seq}`;
