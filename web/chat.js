// The controller: turns socket frames and user intents into store updates and API calls.

import { api } from './api.js';
import { ChatSocket } from './socket.js';
import { newClientId, previewText, roomTitle } from './util/format.js';
import { toast } from './views/toast.js';
import { navigate } from './util/route.js';

const PAGE = 50;
const TYPING_THROTTLE_MS = 3000;

export class Chat {
  constructor(store) {
    this.store = store;
    this.socket = new ChatSocket({ getSyncState: () => store.syncState() });
    this.loading = new Set();       // room ids with a history request in flight
    this.unsentReads = new Map();   // room id -> seq, marked read while offline
    this.lastTypingSent = new Map();
    this.onSessionEnded = () => {};
  }

  async start() {
    const { rooms } = await api.rooms();
    this.store.setRooms(rooms);
    this.socket.on('status', (status) => this.store.setConnection(status));
    this.socket.on('hello', (frame) => this.onHello(frame));
    this.socket.on('frame', (frame) => this.onFrame(frame));
    this.socket.on('ended', () => this.onSessionEnded());
    this.socket.on('disconnected', () => this.checkSession());
    this.socket.start();
  }

  stop() {
    this.socket.stop();
  }

  /**
   * A refused upgrade looks like any network failure to a browser. After a few failed attempts,
   * ask the API whether the session still exists, so a dead session ends instead of retrying forever.
   */
  async checkSession() {
    if (this.socket.attempt < 3 || this.checkingSession) return;
    this.checkingSession = true;
    try {
      await api.me();
    } catch (err) {
      if (err.status === 401) {
        this.socket.stop();
        this.onSessionEnded();
      }
    } finally {
      this.checkingSession = false;
    }
  }

  onHello(frame) {
    const { store } = this;
    if (frame.user) store.setMe({ ...store.me, ...frame.user });
    const listed = new Set((frame.rooms || []).map((r) => r.room_id));
    for (const { room_id } of frame.rooms || []) {
      if (!store.rooms.has(room_id)) this.refreshRoom(room_id);
    }
    for (const id of store.rooms.keys()) if (!listed.has(id) && frame.rooms) this.refreshRoom(id);
    for (const [roomId, seq] of this.unsentReads) this.socket.send({ type: 'read', room_id: roomId, seq });
    this.unsentReads.clear();
  }

  onFrame(frame) {
    const { store } = this;
    switch (frame.type) {
      case 'message':
      case 'ack':
        if (frame.message) this.onMessage(frame.message);
        break;
      case 'edited':
      case 'deleted':
        store.updateMessage(frame.message);
        break;
      case 'typing':
        store.setTyping(frame.room_id, frame.user);
        break;
      case 'presence':
        store.setPresence(frame.user_id, frame.online);
        break;
      case 'read':
        store.setReadMarker(frame.room_id, frame.user_id, frame.seq);
        break;
      case 'room':
        this.onRoomEvent(frame);
        break;
      case 'resync':
        this.reloadHistory(frame.room_id);
        break;
      case 'error':
        this.onError(frame);
        break;
      default:
        break;
    }
  }

  onError(frame) {
    // Visible to developers (and to the browser tests, which fail on console errors).
    console.error(`chat: server error frame ${frame.code}: ${frame.message}${frame.ref ? ` (ref ${frame.ref})` : ''}`);
    if (frame.ref && this.store.pending.has(frame.ref)) {
      const p = this.store.pending.get(frame.ref);
      p.failed = true;
      this.store.emit('messages', { roomId: p.room_id, added: [], pending: true });
    }
    toast(frame.message || 'Something went wrong');
  }

  async onMessage(msg) {
    const { store } = this;
    if (!store.rooms.has(msg.room_id)) await this.refreshRoom(msg.room_id);
    if (!store.rooms.has(msg.room_id)) return;
    const hist = store.history(msg.room_id);
    const isNew = !hist.bySeq.has(msg.seq);
    if (hist.loaded && isNew) this.fillGap(msg.room_id, msg.seq);
    const fromOther = msg.sender?.id !== store.me?.id;
    if (isNew && fromOther) {
      store.clearTyping(msg.room_id, msg.sender.id);
      if (msg.seq > store.myReadMarker(msg.room_id)) store.bumpUnread(msg.room_id);
    }
    store.addMessages(msg.room_id, [msg]);
    if (isNew && fromOther) this.notify(msg);
  }

  /** Fetches messages between what is loaded and a newly arrived seq, if any are missing. */
  async fillGap(roomId, seq) {
    const seqs = [...this.store.history(roomId).bySeq.keys()];
    const max = seqs.length ? Math.max(...seqs) : 0;
    if (!max || seq <= max + 1) return;
    try {
      const { messages } = await api.messages(roomId, { before: seq, limit: Math.min(100, seq - max - 1) });
      this.store.addMessages(roomId, messages);
    } catch { /* the next resume fills it */ }
  }

  async onRoomEvent(frame) {
    const { store } = this;
    const mine = frame.user_id === store.me?.id;
    if (mine && (frame.event === 'removed' || frame.event === 'left')) {
      store.removeRoom(frame.room_id);
      return;
    }
    const known = store.rooms.has(frame.room_id);
    await this.refreshRoom(frame.room_id);
    const room = store.rooms.get(frame.room_id);
    if (!known && room) this.socket.send({ type: 'sync', rooms: { [room.id]: room.last_seq } });
  }

  async refreshRoom(id) {
    try {
      this.store.upsertRoom(await api.room(id));
    } catch (err) {
      if (err.status === 404 || err.status === 403) this.store.removeRoom(id);
    }
  }

  async loadInitial(roomId) {
    const hist = this.store.history(roomId);
    if (hist.loaded || this.loading.has(roomId)) return;
    this.loading.add(roomId);
    try {
      const { messages, has_more } = await api.messages(roomId, { limit: PAGE });
      hist.hasMore = has_more;
      hist.loaded = true;
      this.store.addMessages(roomId, messages, { older: true });
    } catch (err) {
      toast(err.message);
    } finally {
      this.loading.delete(roomId);
    }
  }

  async loadOlder(roomId) {
    const hist = this.store.history(roomId);
    if (!hist.loaded || !hist.hasMore || this.loading.has(roomId)) return;
    const oldest = Math.min(...hist.bySeq.keys());
    if (!Number.isFinite(oldest) || oldest <= 1) {
      hist.hasMore = false;
      return;
    }
    this.loading.add(roomId);
    try {
      const { messages, has_more } = await api.messages(roomId, { before: oldest, limit: PAGE });
      hist.hasMore = has_more && messages.length > 0;
      this.store.addMessages(roomId, messages, { older: true });
    } catch (err) {
      toast(err.message);
    } finally {
      this.loading.delete(roomId);
    }
  }

  async reloadHistory(roomId) {
    const hist = this.store.history(roomId);
    hist.bySeq.clear();
    hist.loaded = false;
    hist.hasMore = true;
    await this.refreshRoom(roomId);
    if (this.store.currentRoomId === roomId) await this.loadInitial(roomId);
  }

  isLoading(roomId) {
    return this.loading.has(roomId);
  }

  sendText(roomId, body, replyTo = null) {
    this.queueSend(roomId, { body, reply_to: replyTo, media: null });
  }

  async sendMedia(roomId, blob, mime, body = '', replyTo = null) {
    const media = await api.uploadMedia(roomId, blob, mime);
    this.queueSend(roomId, { body, reply_to: replyTo, media });
  }

  queueSend(roomId, { body, reply_to, media }) {
    const { store } = this;
    const client_id = newClientId();
    // Receivers stop showing "typing…" when our message arrives; the next keystroke must say it again.
    this.lastTypingSent.delete(roomId);
    store.addPending({
      client_id, room_id: roomId, body, reply_to, media, pending: true,
      sender: { id: store.me.id, display_name: store.me.display_name },
      created_at: new Date().toISOString(), edited_at: null, deleted: false,
    });
    this.socket.sendMessage({ type: 'send', room_id: roomId, body, client_id, reply_to: reply_to ?? null, media_id: media?.id ?? null });
  }

  retry(clientId) {
    const p = this.store.pending.get(clientId);
    if (!p) return;
    p.failed = false;
    this.store.emit('messages', { roomId: p.room_id, added: [], pending: true });
    this.socket.sendMessage({ type: 'send', room_id: p.room_id, body: p.body, client_id: p.client_id, reply_to: p.reply_to ?? null, media_id: p.media?.id ?? null });
  }

  edit(roomId, seq, body) {
    if (!this.socket.send({ type: 'edit', room_id: roomId, seq, body })) toast('You are offline: the edit was not sent.');
  }

  remove(roomId, seq) {
    if (!this.socket.send({ type: 'delete', room_id: roomId, seq })) toast('You are offline: the message was not deleted.');
  }

  typing(roomId) {
    const last = this.lastTypingSent.get(roomId) || 0;
    if (Date.now() - last < TYPING_THROTTLE_MS) return;
    if (this.socket.send({ type: 'typing', room_id: roomId })) this.lastTypingSent.set(roomId, Date.now());
  }

  markRead(roomId) {
    const { store } = this;
    const room = store.rooms.get(roomId);
    if (!room) return;
    const seq = room.last_seq;
    if (!seq || seq <= store.myReadMarker(roomId)) {
      if (room.unread) { room.unread = 0; store.emit('rooms'); }
      return;
    }
    if (!this.socket.send({ type: 'read', room_id: roomId, seq })) this.unsentReads.set(roomId, seq);
    store.setReadMarker(roomId, store.me.id, seq);
    room.unread = 0;
    store.emit('rooms');
  }

  async openDirect(userId) {
    const room = await api.direct(userId);
    this.store.upsertRoom(room);
    return room;
  }

  async createGroup(name, members) {
    const room = await api.createGroup(name, members);
    this.store.upsertRoom(room);
    return room;
  }

  async leave(roomId) {
    await api.removeMember(roomId, this.store.me.id);
    this.store.removeRoom(roomId);
  }

  notify(msg) {
    if (document.visibilityState !== 'hidden') return;
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const room = this.store.rooms.get(msg.room_id);
    if (!room) return;
    const title = roomTitle(room, this.store.me);
    const body = room.kind === 'group' ? `${msg.sender.display_name}: ${previewText(msg)}` : previewText(msg);
    try {
      const n = new Notification(title, { body, tag: `room-${room.id}` });
      n.onclick = () => {
        window.focus();
        navigate(`#/room/${room.id}`);
        n.close();
      };
    } catch { /* some platforms only allow notifications from a service worker */ }
  }
}
