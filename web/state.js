// The client-side store: what the UI shows, and nothing about how it got here.
// Views subscribe to named events; the controller (chat.js) is the only writer.

import { activityOf } from './util/format.js';
import { mentionsUser } from './util/mentions.js';
import { isNewer } from './util/messages.js';

const TYPING_MS = 5000;
/** Messages kept of a room that is not on screen; older ones are paged in again when needed. */
export const KEEP_OFF_SCREEN = 100;
/** Edits and deletes kept for messages not held yet (oldest forgotten first). */
const MAX_LATER_VERSIONS = 500;

/**
 * Events (detail):
 * - `rooms` (–), `room` (id), `current` (id), `me` (user), `connection` (status), `presence`,
 *   `typing` (room id), `read` ({ roomId, userId, seq })
 * - `messages` ({ roomId, added, older, newer }): confirmed messages new to the store (`newer`:
 *   a page after a detached window, not live)
 * - `message-updated` ({ roomId, message }): a newer version of a known message (edit, delete)
 * - `pending` ({ roomId, pending }): an unsent message was added or changed (progress, failure)
 * - `pending-removed` ({ roomId, clientId }): an unsent message was dropped or confirmed
 * - `history-reset` (room id): a room's history was replaced or trimmed; views rebuild it
 * - `reveal` ({ roomId, seq }): a message should be shown in its chat and marked (a search hit)
 */
export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.rooms = new Map();       // room id -> room (REST shape, kept up to date live)
    this.roomsLoaded = false;
    this.histories = new Map();   // room id -> { bySeq: Map<seq, message>, hasMore, loaded, stale }
    this.pending = new Map();     // client_id -> local message not yet acked
    this.pendingEdits = new Map();   // "room:seq" -> body typed but not yet confirmed
    this.laterVersions = new Map();  // "room:seq" -> an edit or delete of a message not held yet
    this.presence = new Map();    // user id -> online
    this.typing = new Map();      // room id -> Map<user id, { name, timer }>
    this.currentRoomId = null;
    this.reveal = null;           // { roomId, seq } a search hit to show once its chat is open
    this.connection = 'connecting';
    this.connectionReason = null;
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

  /**
   * A user's public profile now (a `user` event, or the answer to my own change): their name and
   * photo change in every room they share with me, and in my own user when it is me. Applying
   * the same profile twice changes nothing.
   */
  applyUser(user) {
    const profile = publicProfile(user);
    const changed = [];
    for (const room of this.rooms.values()) {
      const member = room.members.find((m) => m.id === user.id);
      if (!member || Object.entries(profile).every(([key, value]) => member[key] === value)) continue;
      room.members = room.members.map((m) => (m === member ? { ...m, ...profile } : m));
      changed.push(room.id);
    }
    if (user.id === this.me?.id) this.setMe({ ...this.me, ...user });
    if (!changed.length) return;
    this.emit('rooms');
    for (const id of changed) this.emit('room', id);
  }

  setConnection(status, reason = null) {
    if (this.connection === status && this.connectionReason === reason) return;
    this.connection = status;
    this.connectionReason = reason;
    this.emit('connection', status);
  }

  /**
   * Takes a full snapshot of GET /rooms: rooms not in it are gone; names, members, roles, read
   * markers and presence are replaced by what the server says now.
   */
  setRooms(list) {
    const listed = new Set(list.map((r) => r.id));
    for (const id of [...this.rooms.keys()]) if (!listed.has(id)) this.removeRoom(id, { quiet: true });
    for (const room of list) this.applyRoom(room);
    this.roomsLoaded = true;
    this.emit('rooms');
    this.emit('presence', {});
    for (const room of list) this.emit('room', room.id);
  }

  /** Inserts or replaces one room from the server (GET /rooms/{id} and friends). */
  upsertRoom(room) {
    this.applyRoom(room);
    this.emit('rooms');
    this.emit('room', room.id);
    this.emit('presence', {});
  }

  applyRoom(room) {
    const next = {
      ...room,
      members: room.members || [],
      read_markers: { ...(room.read_markers || {}) },
      last_seq: room.last_seq || 0,
      last_message: room.last_message || null,
      unread: room.unread || 0,
      unread_seq: room.last_seq || 0,   // the seq up to which `unread` is counted
    };
    const prev = this.rooms.get(room.id);
    if (prev) {
      // Messages that arrived live after the server took this snapshot stay counted.
      if (prev.last_seq > next.last_seq) {
        next.last_seq = prev.last_seq;
        next.last_message = prev.last_message;
      } else if (prev.last_message && next.last_message?.seq === prev.last_message.seq
        && !isNewer(next.last_message, prev.last_message)) {
        next.last_message = prev.last_message;
      }
      const me = String(this.me?.id);
      const theirs = next.read_markers[me] || 0;
      for (const [user, seq] of Object.entries(prev.read_markers)) {
        next.read_markers[user] = Math.max(seq, next.read_markers[user] || 0);
      }
      if (prev.unread_seq > next.unread_seq) {
        next.unread += this.countUnread(room.id, next.unread_seq, prev.unread_seq, next.read_markers);
        next.unread_seq = prev.unread_seq;
      }
      // I read further than the snapshot knew (my `read` crossed it): count from my marker.
      const mine = next.read_markers[me] || 0;
      if (mine > theirs) next.unread = this.unreadSince(room.id, mine, next.last_seq, next.read_markers, next.unread);
    }
    if (next.last_message) this.mergeIntoHistory(next.last_message);
    this.rooms.set(room.id, next);
    for (const m of next.members) {
      if (typeof m.online === 'boolean') this.presence.set(m.id, m.online);
    }
  }

  /** Messages from others in (from, to] after my read marker, counted from what we hold. */
  countUnread(roomId, from, to, markers) {
    const mine = markers[String(this.me?.id)] || 0;
    let n = 0;
    for (const msg of this.histories.get(roomId)?.bySeq.values() || []) {
      if (msg.seq > from && msg.seq <= to && msg.seq > mine && msg.sender?.id !== this.me?.id && !msg.deleted) n += 1;
    }
    return n;
  }

  removeRoom(id, { quiet = false } = {}) {
    this.rooms.delete(id);
    this.histories.delete(id);
    for (const [cid, p] of this.pending) if (p.room_id === id) this.pending.delete(cid);
    if (this.currentRoomId === id) this.setCurrent(null);
    if (quiet) return;
    this.emit('rooms');
    this.emit('room', id);
  }

  setCurrent(id) {
    if (this.currentRoomId === id) return;
    const left = this.currentRoomId;
    this.currentRoomId = id;
    if (left !== null) this.trimHistory(left);
    this.emit('current', id);
  }

  /** Asks for a message to be shown in its chat and marked, once that chat is on screen. */
  requestReveal(roomId, seq) {
    this.reveal = { roomId, seq };
    this.emit('reveal', this.reveal);
  }

  /** The seq of the message waiting to be revealed in this room, if any (taken only once). */
  takeReveal(roomId) {
    if (this.reveal?.roomId !== roomId) return null;
    const { seq } = this.reveal;
    this.reveal = null;
    return seq;
  }

  sortedRooms() {
    return [...this.rooms.values()].sort((a, b) => activityOf(b) - activityOf(a) || b.id - a.id);
  }

  /** Chats with unread messages that call for attention: neither muted nor archived (as
   * WhatsApp counts them in the title; each chat's own badge still counts its messages). */
  unreadChats() {
    let chats = 0;
    for (const room of this.rooms.values()) if (room.unread > 0 && !room.muted && !room.archived) chats += 1;
    return chats;
  }

  /** Whether a message from someone else past my read marker names me, among those we hold. */
  mentionsMeUnread(roomId) {
    const room = this.rooms.get(roomId);
    if (!room?.unread) return false;
    const mine = this.myReadMarker(roomId);
    const held = [room.last_message, ...(this.histories.get(roomId)?.bySeq.values() || [])];
    return held.some((m) => m && m.seq > mine && !m.deleted && m.sender?.id !== this.me?.id && mentionsUser(m, this.me?.id));
  }

  /** My own settings for a room now (a `room_settings` event, or the answer to my change). */
  setRoomSettings(roomId, { muted, archived }) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.set(roomId, { ...room, muted: !!muted, archived: !!archived });
    this.emit('rooms');
    this.emit('room', roomId);
  }

  history(roomId) {
    let h = this.histories.get(roomId);
    if (!h) {
      // detached: the messages held stop short of the newest (a window opened at an old
      // message); live messages are not held until newer pages reach them (chat.js).
      h = { bySeq: new Map(), hasMore: true, loaded: false, stale: false, detached: false };
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

  /** Highest seq held of a room (0 when none). */
  newestSeq(roomId) {
    let max = 0;
    for (const seq of this.histories.get(roomId)?.bySeq.keys() || []) if (seq > max) max = seq;
    return max;
  }

  /** Lowest seq held of a room (Infinity when none). */
  oldestSeq(roomId) {
    let min = Infinity;
    for (const seq of this.histories.get(roomId)?.bySeq.keys() || []) if (seq < min) min = seq;
    return min;
  }

  /**
   * Adds messages of a room (a live one, a sync replay, a history page). A message already held
   * is replaced only by a newer version of it (see isNewer), so a page fetched before an edit
   * cannot undo the edit. Returns the messages that were new.
   */
  addMessages(roomId, list, { older = false, newer = false } = {}) {
    const hist = this.history(roomId);
    const room = this.rooms.get(roomId);
    const added = [];
    for (const arrived of list) {
      const msg = this.newestVersion(arrived);
      const known = hist.bySeq.get(msg.seq);
      if (known) {
        if (isNewer(msg, known)) this.replaceMessage(msg);
        else if (!isNewer(known, msg) && sameReactions(msg, known) === false) this.replaceMessage({ ...known, reactions: msg.reactions });
        continue;
      }
      hist.bySeq.set(msg.seq, msg);
      added.push(msg);
      if (room && isLatest(room, msg)) {
        room.last_seq = msg.seq;
        room.last_message = msg;
      }
      if (msg.client_id && msg.sender?.id === this.me?.id && this.pending.has(msg.client_id)) {
        this.pending.delete(msg.client_id);
      }
    }
    if (!added.length) return added;
    this.emit('messages', { roomId, added, older, newer });
    if (!older) this.emit('rooms');
    if (roomId !== this.currentRoomId && hist.bySeq.size > 2 * KEEP_OFF_SCREEN) this.trimHistory(roomId);
    return added;
  }

  /**
   * Applies an edit or delete (a full message) if it is newer than what is held. Of a message
   * not held yet (its history page may be on the way) it is kept until the message arrives.
   */
  updateMessage(msg) {
    const known = this.findMessage(msg.room_id, msg.seq);
    if (!known) this.keepLaterVersion(msg);
    const room = this.rooms.get(msg.room_id);
    const isLast = room?.last_message?.seq === msg.seq;
    if (known ? !isNewer(msg, known) : !(isLast && isNewer(msg, room.last_message))) return;
    this.replaceMessage(msg);
  }

  keepLaterVersion(msg) {
    const key = `${msg.room_id}:${msg.seq}`;
    const kept = this.laterVersions.get(key);
    if (kept && !isNewer(msg, kept)) return;
    this.laterVersions.delete(key);
    this.laterVersions.set(key, msg);
    if (this.laterVersions.size > MAX_LATER_VERSIONS) this.laterVersions.delete(this.laterVersions.keys().next().value);
  }

  /** The newest version known of an arriving message (it may have been edited meanwhile). */
  newestVersion(msg) {
    const key = `${msg.room_id}:${msg.seq}`;
    const kept = this.laterVersions.get(key);
    if (!kept) return msg;
    this.laterVersions.delete(key);
    return isNewer(kept, msg) ? kept : msg;
  }

  /**
   * Sets the reactions of a held message (a `reactions` event, or the answer to my own). A
   * reaction is not a new version of the message: isNewer does not see it.
   */
  setReactions(roomId, seq, reactions) {
    const known = this.findMessage(roomId, seq);
    if (known && !known.deleted) this.replaceMessage({ ...known, reactions });
  }

  /** Puts a newer version of a message in the history (if held) and in the chat-list preview. */
  mergeIntoHistory(msg) {
    const known = this.findMessage(msg.room_id, msg.seq);
    if (known && isNewer(msg, known)) this.replaceMessage(msg);
  }

  replaceMessage(msg) {
    const hist = this.histories.get(msg.room_id);
    if (hist?.bySeq.has(msg.seq)) hist.bySeq.set(msg.seq, msg);
    const room = this.rooms.get(msg.room_id);
    if (room?.last_message?.seq === msg.seq) room.last_message = msg;
    this.emit('message-updated', { roomId: msg.room_id, message: msg });
    this.emit('rooms');
  }

  /** A message past a detached window: not held (that would leave a hole before it), but the
   * room's newest message and the chat list's preview follow it. Whether it was news. */
  noteNewest(msg) {
    const room = this.rooms.get(msg.room_id);
    if (!room || msg.seq <= room.last_seq) return false;
    room.last_seq = msg.seq;
    room.last_message = msg;
    this.emit('rooms');
    return true;
  }

  /** Replaces a room's history (after `resync`, or to start over). */
  resetHistory(roomId) {
    this.histories.delete(roomId);
    this.emit('history-reset', roomId);
  }

  /** Drops all but the newest messages of a room that is not on screen (all of a detached
   * window: the chat opens at its newest messages next time). */
  trimHistory(roomId) {
    const hist = this.histories.get(roomId);
    if (hist?.detached) this.histories.delete(roomId);
    if (!hist || hist.detached || hist.bySeq.size <= KEEP_OFF_SCREEN) return;
    const seqs = [...hist.bySeq.keys()].sort((a, b) => a - b);
    for (const seq of seqs.slice(0, seqs.length - KEEP_OFF_SCREEN)) hist.bySeq.delete(seq);
    hist.hasMore = true;
  }

  addPending(p) {
    this.pending.set(p.client_id, p);
    this.emit('pending', { roomId: p.room_id, pending: p });
  }

  /** Changes an unsent message (upload progress, failure) and tells the views. */
  patchPending(clientId, changes) {
    const p = this.pending.get(clientId);
    if (!p) return;
    Object.assign(p, changes);
    this.emit('pending', { roomId: p.room_id, pending: p });
  }

  removePending(clientId) {
    const p = this.pending.get(clientId);
    if (!p) return;
    this.pending.delete(clientId);
    this.emit('pending-removed', { roomId: p.room_id, clientId });
  }

  pendingFor(roomId) {
    return [...this.pending.values()].filter((p) => p.room_id === roomId);
  }

  /** Shows an edit typed but not yet confirmed by the server (`body` null: confirmed). */
  setPendingEdit(roomId, seq, body) {
    const key = `${roomId}:${seq}`;
    if (body === null) {
      if (!this.pendingEdits.delete(key)) return;
    } else {
      this.pendingEdits.set(key, body);
    }
    const msg = this.findMessage(roomId, seq);
    if (msg) this.emit('message-updated', { roomId, message: msg });
  }

  pendingEdit(roomId, seq) {
    return this.pendingEdits.get(`${roomId}:${seq}`);
  }

  setReadMarker(roomId, userId, seq) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const key = String(userId);
    if ((room.read_markers[key] || 0) >= seq) return;
    room.read_markers[key] = seq;
    if (userId === this.me?.id) room.unread = this.unreadAfter(roomId, seq);
    this.emit('read', { roomId, userId, seq });
    if (userId === this.me?.id) this.emit('rooms');
  }

  /** My unread count once my read marker is at `seq`. */
  unreadAfter(roomId, seq) {
    const room = this.rooms.get(roomId);
    return this.unreadSince(roomId, seq, room.last_seq, room.read_markers, room.unread);
  }

  /**
   * Messages from others after my marker `mine` up to `last`: counted when the history holds
   * all of them, else estimated (at most `known`, at most the number of messages in between).
   */
  unreadSince(roomId, mine, last, markers, known) {
    if (mine >= last) return 0;
    if (this.oldestSeq(roomId) <= mine + 1 && this.newestSeq(roomId) >= last) return this.countUnread(roomId, mine, last, markers);
    return Math.min(known, last - mine);
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

  /**
   * Counts a message from someone else as unread, once, if it is past my read marker. (Others'
   * messages arrive in seq order; only my own, acked, may come early, so they are not counted.)
   */
  countIncoming(msg) {
    const room = this.rooms.get(msg.room_id);
    if (!room || msg.sender?.id === this.me?.id || msg.seq <= room.unread_seq) return;
    room.unread_seq = msg.seq;
    if (msg.seq <= this.myReadMarker(msg.room_id)) return;
    room.unread += 1;
    this.emit('rooms');
  }

  /** Whether a message from someone else lies past my read marker (so a `read` is worth sending). */
  hasUnreadFromOthers(roomId) {
    const room = this.rooms.get(roomId);
    if (!room) return false;
    if (room.unread > 0) return true;
    const hist = this.histories.get(roomId);
    for (let seq = room.last_seq; seq > this.myReadMarker(roomId); seq -= 1) {
      const msg = seq === room.last_message?.seq ? room.last_message : hist?.bySeq.get(seq);
      if (!msg || msg.sender?.id !== this.me?.id) return true;   // unknown counts as someone else's
    }
    return false;
  }

  /** Clears my unread count of a room (I have read up to its newest message). */
  clearUnread(roomId) {
    const room = this.rooms.get(roomId);
    if (!room || !room.unread) return;
    room.unread = 0;
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

  /** Forgets every "typing…" (a reconnect: nobody's typing state survives it). */
  clearAllTyping() {
    for (const [roomId, map] of this.typing) {
      for (const entry of map.values()) clearTimeout(entry.timer);
      map.clear();
      this.emit('typing', roomId);
    }
  }

  typingNames(roomId) {
    return [...(this.typing.get(roomId)?.values() || [])].map((t) => t.name);
  }

  /**
   * The last seq held per room, for `sync`: the newest message in its history, or what the
   * room list said when nothing of it is held (older history then comes over REST).
   */
  syncState() {
    const out = {};
    for (const room of this.rooms.values()) {
      const hist = this.histories.get(room.id);
      out[String(room.id)] = hist?.loaded ? this.newestSeq(room.id) || room.last_seq : room.last_seq;
    }
    return out;
  }
}

/** Whether a message newly held should become the room's newest (its chat-list preview). */
function isLatest(room, msg) {
  if (msg.seq !== room.last_seq) return msg.seq > room.last_seq;
  return room.last_message?.seq !== msg.seq || isNewer(msg, room.last_message);
}

/** Whether two versions of a message carry the same reactions (undefined when `a` has none to tell). */
function sameReactions(a, b) {
  if (!Array.isArray(a.reactions)) return undefined;
  return JSON.stringify(a.reactions) === JSON.stringify(b.reactions || []);
}

/** The fields of a user that others see (a member's own fields, like role, stay as they are). */
function publicProfile(user) {
  const { id, username = null, display_name, guest = false, avatar = null } = user;
  return { id, username, display_name, guest, avatar };
}
