// The client-side store: what the UI shows, and nothing about how it got here.
// Views subscribe to named events; the controller (chat.js) is the only writer.

import { activityOf } from './util/format.js';

const TYPING_MS = 5000;

export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.rooms = new Map();       // room id -> room (REST shape, kept up to date live)
    this.histories = new Map();   // room id -> { bySeq: Map<seq, message>, hasMore, loaded }
    this.pending = new Map();     // client_id -> local message not yet acked
    this.presence = new Map();    // user id -> online
    this.typing = new Map();      // room id -> Map<user id, { name, until }>
    this.currentRoomId = null;
    this.connection = 'connecting';
  }

  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setMe(user) {
    this.me = user;
    this.emit('me', user);
  }

  setConnection(status) {
    if (this.connection === status) return;
    this.connection = status;
    this.emit('connection', status);
  }

  setRooms(list) {
    this.rooms = new Map();
    for (const room of list) {
      this.rooms.set(room.id, normalizeRoom(room));
      this.seedPresence(room);
    }
    this.emit('rooms');
    this.emit('presence', {});
  }

  /** Takes the members' online state from a REST snapshot; live `presence` frames update it. */
  seedPresence(room) {
    for (const m of room.members || []) {
      if (typeof m.online === 'boolean') this.presence.set(m.id, m.online);
    }
  }

  /** Inserts or replaces a room, never moving its last_seq backwards. */
  upsertRoom(room) {
    const next = normalizeRoom(room);
    const prev = this.rooms.get(room.id);
    if (prev && prev.last_seq > next.last_seq) {
      next.last_seq = prev.last_seq;
      next.last_message = prev.last_message;
    }
    if (prev) {
      for (const [user, seq] of Object.entries(prev.read_markers)) {
        next.read_markers[user] = Math.max(seq, next.read_markers[user] || 0);
      }
    }
    this.rooms.set(room.id, next);
    this.seedPresence(room);
    this.emit('rooms');
    this.emit('room', room.id);
    this.emit('presence', {});
  }

  removeRoom(id) {
    this.rooms.delete(id);
    this.histories.delete(id);
    if (this.currentRoomId === id) this.setCurrent(null);
    this.emit('rooms');
    this.emit('room', id);
  }

  setCurrent(id) {
    if (this.currentRoomId === id) return;
    this.currentRoomId = id;
    this.emit('current', id);
  }

  sortedRooms() {
    return [...this.rooms.values()].sort((a, b) => activityOf(b) - activityOf(a) || b.id - a.id);
  }

  unreadTotal() {
    let total = 0;
    for (const room of this.rooms.values()) total += room.unread || 0;
    return total;
  }

  history(roomId) {
    let h = this.histories.get(roomId);
    if (!h) {
      h = { bySeq: new Map(), hasMore: true, loaded: false };
      this.histories.set(roomId, h);
    }
    return h;
  }

  /** Messages of a room in seq order. */
  messages(roomId) {
    return [...this.history(roomId).bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  findMessage(roomId, seq) {
    return this.histories.get(roomId)?.bySeq.get(seq);
  }

  /**
   * Adds messages (deduplicated by room + seq). Returns the ones that were new.
   * `older` marks a history page (prepended above what is shown).
   */
  addMessages(roomId, list, { older = false } = {}) {
    const hist = this.history(roomId);
    const room = this.rooms.get(roomId);
    const added = [];
    for (const msg of list) {
      const known = hist.bySeq.get(msg.seq);
      if (known && (known.edited_at === msg.edited_at && known.deleted === msg.deleted)) continue;
      hist.bySeq.set(msg.seq, msg);
      if (!known) added.push(msg);
      if (room && msg.seq >= (room.last_seq || 0)) {
        room.last_seq = msg.seq;
        room.last_message = msg;
      }
      if (msg.client_id && this.pending.has(msg.client_id) && msg.sender?.id === this.me?.id) {
        this.pending.delete(msg.client_id);
      }
    }
    if (added.length || list.length) {
      this.emit('messages', { roomId, added, older });
      if (!older) this.emit('rooms');
    }
    return added;
  }

  /** Applies an edit or delete (a full message) to whatever we have of it. */
  updateMessage(msg) {
    const hist = this.histories.get(msg.room_id);
    if (hist?.bySeq.has(msg.seq)) hist.bySeq.set(msg.seq, msg);
    const room = this.rooms.get(msg.room_id);
    if (room?.last_message?.seq === msg.seq) room.last_message = msg;
    this.emit('message-updated', { roomId: msg.room_id, message: msg });
    this.emit('rooms');
  }

  addPending(p) {
    this.pending.set(p.client_id, p);
    this.emit('messages', { roomId: p.room_id, added: [], pending: true });
  }

  removePending(clientId) {
    const p = this.pending.get(clientId);
    if (!p) return;
    this.pending.delete(clientId);
    this.emit('messages', { roomId: p.room_id, added: [], pending: true });
  }

  pendingFor(roomId) {
    return [...this.pending.values()].filter((p) => p.room_id === roomId);
  }

  setReadMarker(roomId, userId, seq) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const key = String(userId);
    if ((room.read_markers[key] || 0) >= seq) return;
    room.read_markers[key] = seq;
    if (userId === this.me?.id && seq >= room.last_seq) room.unread = 0;
    this.emit('read', { roomId, userId, seq });
    if (userId === this.me?.id) this.emit('rooms');
  }

  myReadMarker(roomId) {
    return this.rooms.get(roomId)?.read_markers[String(this.me?.id)] || 0;
  }

  /** Highest seq every other member has read (for ✓✓ on own messages). */
  readByOthers(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return 0;
    const others = room.members.filter((m) => m.id !== this.me?.id);
    if (!others.length) return 0;
    return Math.min(...others.map((m) => room.read_markers[String(m.id)] || 0));
  }

  bumpUnread(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.unread = (room.unread || 0) + 1;
    this.emit('rooms');
  }

  setPresence(userId, online) {
    this.presence.set(userId, online);
    this.emit('presence', { userId, online });
  }

  setTyping(roomId, user) {
    if (user.id === this.me?.id) return;
    let map = this.typing.get(roomId);
    if (!map) this.typing.set(roomId, (map = new Map()));
    const prev = map.get(user.id);
    if (prev) clearTimeout(prev.timer);
    const timer = setTimeout(() => this.clearTyping(roomId, user.id), TYPING_MS);
    map.set(user.id, { name: user.display_name, timer });
    this.emit('typing', roomId);
  }

  clearTyping(roomId, userId) {
    const map = this.typing.get(roomId);
    const entry = map?.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    map.delete(userId);
    this.emit('typing', roomId);
  }

  typingNames(roomId) {
    return [...(this.typing.get(roomId)?.values() || [])].map((t) => t.name);
  }

  /** Last seq seen per room, for `sync`. */
  syncState() {
    const out = {};
    for (const room of this.rooms.values()) out[String(room.id)] = room.last_seq || 0;
    return out;
  }
}

function normalizeRoom(room) {
  return {
    ...room,
    members: room.members || [],
    read_markers: { ...(room.read_markers || {}) },
    last_seq: room.last_seq || 0,
    unread: room.unread || 0,
  };
}
