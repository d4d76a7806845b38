// The controller: turns socket frames and user intents into store updates and API calls.
// After every (re)connect it resumes exactly: `sync` from what it holds, a resume window until
// `synced`, and a fresh room list (names, members, roles, read markers, presence).

import { api } from './api.js';
import { clearDrafts } from './drafts.js';
import { errorText, t, tOr } from './i18n.js';
import { Outbox } from './outbox.js';
import { ResumeGate } from './resume.js';
import { Sender } from './sending.js';
import { ChatSocket } from './socket.js';
import { previewText, roomTitle } from './util/format.js';
import { mentionsUser } from './util/mentions.js';
import { navigate } from './util/route.js';
import { announce } from './views/announce.js';
import { toast } from './views/toast.js';

const PAGE = 50;
const GAP_PAGE = 100;
/** Messages loaded before a revealed search hit, at least (one page brings more). */
const CONTEXT_BEFORE = 5;
const TYPING_THROTTLE_MS = 3000;

export class Chat {
  constructor(store) {
    this.store = store;
    this.socket = new ChatSocket();
    this.gate = new ResumeGate();
    this.sender = null;
    this.loading = new Map();       // room id -> history request in flight
    this.joining = new Map();       // room id -> fetch of a room we just learned about
    this.unsentReads = new Map();   // room id -> seq, marked read while offline
    this.lastTypingSent = new Map();
    this.connectedBefore = false;
    this.started = false;
    this.onSessionEnded = () => {};
    this.renewal = Promise.resolve();   // a request replacing the session (guest upgrade)
  }

  async start() {
    const { store, socket } = this;
    this.sender = new Sender({
      store, socket, outbox: await Outbox.open(store.me.id),
      onFailed: (p) => toast(t('send.failed', { reason: tOr(`send.reason.${p.failed}`, 'send.reason.unknown') })),
    });
    socket.on('status', (status) => {
      if (status !== 'stopped') store.setConnection(status);
      if (status === 'online') this.sender.resume();
      else this.gate.end();
    });
    socket.on('stopped', (reason) => store.setConnection('stopped', reason));
    socket.on('hello', (frame) => this.onHello(frame));
    socket.on('frame', (frame) => this.onFrame(frame));
    socket.on('ended', () => this.onEnded());
    socket.on('disconnected', () => this.checkSession());
    await this.loadRooms();
  }

  /** The first room list; when it fails the page shows a retry banner instead of nothing. */
  async loadRooms() {
    const { store } = this;
    try {
      store.setRooms((await api.rooms()).rooms);
    } catch (err) {
      if (err.status === 401) { this.onSessionEnded(); return; }
      store.setConnection('load-failed');
      return;
    }
    this.started = true;
    store.setConnection('connecting');
    await this.sender.restore();
    this.socket.start();
  }

  /** "Try again" on the banner. */
  retryConnection() {
    if (!this.started) this.loadRooms();
    else this.socket.restart();
  }

  stop() {
    this.socket.stop();
  }

  /** Logs out: drafts and unsent work of this user stay on no device they left. */
  async forgetLocalData() {
    clearDrafts(this.store.me.id);
    await this.sender?.outbox.clear();
  }

  /**
   * 4001: the socket's session ended. Usually that is the end (logout, expiry, account
   * disabled), but upgrading a guest also ends the guest's session and sets a new cookie: wait
   * for such a renewal and ask the API before giving up.
   */
  async onEnded() {
    await this.renewal;
    try {
      const me = await api.me();
      this.store.setMe({ ...this.store.me, ...me });
      this.socket.restart();
    } catch {
      this.onSessionEnded();
    }
  }

  /** Marks `request` as replacing the session (so its 4001 is not a logout); returns it. */
  renewSession(request) {
    this.renewal = request.catch(() => {});
    return request;
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
    const rooms = store.syncState();
    this.gate.begin(rooms);
    this.socket.raw({ type: 'sync', rooms });
    for (const [roomId, seq] of this.unsentReads) this.socket.raw({ type: 'read', room_id: roomId, seq });
    this.unsentReads.clear();
    if (this.connectedBefore) {
      this.refreshAfterReconnect();
    } else {
      // The room list was fetched just before: only rooms that changed in between need a look.
      const listed = new Set((frame.rooms || []).map((r) => r.room_id));
      for (const id of listed) if (!store.rooms.has(id)) this.learnRoom(id);
      for (const id of store.rooms.keys()) if (!listed.has(id)) this.refreshRoom(id);
    }
    this.connectedBefore = true;
  }

  /**
   * What changed while we were away and has no event to replay: the room list (names, members,
   * roles, read markers, unread counts, presence) and edits or deletes of held messages.
   */
  async refreshAfterReconnect() {
    const { store } = this;
    store.clearAllTyping();
    for (const hist of store.histories.values()) hist.stale = true;
    try {
      store.setRooms((await api.rooms()).rooms);
    } catch { /* the next reconnect tries again */ }
    if (store.currentRoomId !== null) this.loadInitial(store.currentRoomId);
  }

  onFrame(frame) {
    const { store } = this;
    switch (frame.type) {
      case 'message':
        if (frame.message && this.gate.accept(frame.message.room_id, frame.message.seq)) this.onMessage(frame.message);
        break;
      case 'ack':
        if (frame.message) this.onMessage(frame.message);
        this.sender.confirmed(frame.client_id);
        break;
      case 'synced':
        this.gate.end();
        break;
      case 'edited':
      case 'deleted':
        store.updateMessage(frame.message);
        this.sender.editSettled(frame.message.room_id, frame.message.seq);
        // An edit that names me anew tells me as a new message naming me would.
        if (frame.newly_mentioned?.includes(store.me?.id) && frame.message.sender?.id !== store.me?.id) this.tell(frame.message);
        break;
      case 'reactions':
        store.setReactions(frame.room_id, frame.seq, frame.reactions);
        break;
      case 'room_settings':
        store.setRoomSettings(frame.room_id, frame);
        break;
      case 'typing':
        store.setTyping(frame.room_id, frame.user);
        break;
      case 'presence':
        store.setPresence(frame.user_id, frame.online);
        if (!frame.online) this.refreshLastSeen(frame.user_id);
        break;
      case 'user':
        store.applyUser(frame.user);
        break;
      case 'read':
        store.setReadMarker(frame.room_id, frame.user_id, frame.seq);
        break;
      case 'room':
        this.onRoomEvent(frame);
        break;
      case 'resync':
        this.onResync(frame.room_id, frame.last_seq);
        break;
      case 'error':
        this.onError(frame);
        break;
      default:
        break;
    }
  }

  onError(frame) {
    // Visible to developers (and to the browser tests, which fail on unexpected console errors).
    console.error(`chat: server error frame ${frame.code}: ${frame.message}${frame.ref ? ` (ref ${frame.ref})` : ''}`);
    if (frame.ref && this.store.pending.has(frame.ref)) this.sender.refused(frame.ref, frame.code);
    else toast(errorText(frame));
  }

  async onMessage(msg) {
    const { store } = this;
    if (!store.rooms.has(msg.room_id)) {
      await this.learnRoom(msg.room_id);
      if (!store.rooms.has(msg.room_id)) return;
    }
    const hist = store.history(msg.room_id);
    const newest = store.newestSeq(msg.room_id);
    // Counted before it is shown: showing it may mark it read at once.
    if (!store.findMessage(msg.room_id, msg.seq)) store.countIncoming(msg);
    if (hist.detached) {
      // The window held ends before it: newer pages bring it in order (loadNewer).
      if (!store.noteNewest(msg)) return;
    } else {
      if (hist.loaded && newest && msg.seq > newest + 1) this.fillGap(msg.room_id, newest, msg.seq);
      if (!store.addMessages(msg.room_id, [msg]).length) return;
    }
    if (msg.client_id && msg.sender?.id === store.me?.id) this.sender.confirmed(msg.client_id);
    if (msg.sender?.id !== store.me?.id) {
      store.clearTyping(msg.room_id, msg.sender.id);
      this.tell(msg);
    }
  }

  /** Fetches a room we just heard of; frames of it wait for this, in their order. */
  learnRoom(id) {
    if (!this.joining.has(id)) {
      this.joining.set(id, this.refreshRoom(id).finally(() => this.joining.delete(id)));
    }
    return this.joining.get(id);
  }

  /** Fetches every message between `after` and `before` (both excluded), however many. */
  async fillGap(roomId, after, before) {
    let upTo = before;
    try {
      while (upTo > after + 1) {
        const { messages } = await api.messages(roomId, { before: upTo, limit: Math.min(GAP_PAGE, upTo - after - 1) });
        if (!messages.length) break;
        this.store.addMessages(roomId, messages);
        upTo = messages[0].seq;
      }
    } catch { /* the next resume fills it */ }
  }

  /** The gap was too large for a replay: start the history over from the newest page. */
  onResync(roomId, lastSeq) {
    const { store } = this;
    this.gate.skipTo(roomId, lastSeq);
    store.resetHistory(roomId);
    this.refreshRoom(roomId);
    if (store.currentRoomId === roomId) this.loadInitial(roomId);
  }

  async onRoomEvent(frame) {
    const { store } = this;
    const mine = frame.user_id === store.me?.id;
    if (mine && (frame.event === 'removed' || frame.event === 'left')) {
      store.removeRoom(frame.room_id);
      return;
    }
    await this.refreshRoom(frame.room_id);
  }

  /**
   * Someone went offline: the direct chats with them that show when they were last seen fetch
   * that time again (the presence event does not carry it, and it is now the moment they left).
   */
  refreshLastSeen(userId) {
    for (const room of this.store.rooms.values()) {
      if (room.kind !== 'direct') continue;
      const member = room.members.find((m) => m.id === userId);
      if (member?.last_seen) this.refreshRoom(room.id);
    }
  }

  async refreshRoom(id) {
    try {
      this.store.upsertRoom(await api.room(id));
    } catch (err) {
      if (err.status === 404 || err.status === 403) this.store.removeRoom(id);
    }
  }

  /**
   * Loads the newest page of a room's history, or refreshes it when it may be stale (after a
   * reconnect): newer versions win, and a hole between it and what is held is filled.
   */
  loadInitial(roomId) {
    const { store } = this;
    const hist = store.history(roomId);
    // A detached window is refreshed by the newer pages read into it, not from the newest page.
    if (hist.detached) hist.stale = false;
    if (hist.loaded && !hist.stale) return Promise.resolve();
    if (this.loading.has(roomId)) return this.loading.get(roomId);
    return this.historyJob(roomId, async () => {
      const wasLoaded = hist.loaded;
      const newest = store.newestSeq(roomId);
      const { messages, has_more } = await api.messages(roomId, { limit: PAGE });
      if (store.history(roomId) !== hist) return;   // reset meanwhile
      if (!wasLoaded) hist.hasMore = has_more;
      hist.loaded = true;
      hist.stale = false;
      store.addMessages(roomId, messages, { older: !wasLoaded });
      if (wasLoaded && messages.length && messages[0].seq > newest + 1) await this.fillGap(roomId, newest, messages[0].seq);
    });
  }

  loadOlder(roomId) {
    const { store } = this;
    const hist = store.history(roomId);
    if (!hist.loaded || !hist.hasMore || this.loading.has(roomId)) return Promise.resolve();
    const oldest = store.oldestSeq(roomId);
    if (!Number.isFinite(oldest) || oldest <= 1) {
      hist.hasMore = false;
      return Promise.resolve();
    }
    return this.historyJob(roomId, async () => {
      const { messages, has_more } = await api.messages(roomId, { before: oldest, limit: PAGE });
      if (store.history(roomId) !== hist) return;   // reset meanwhile
      hist.hasMore = has_more && messages.length > 0;
      store.addMessages(roomId, messages, { older: true });
    });
  }

  /**
   * Loads the page after a detached window. When nothing newer remains the window has reached
   * the newest message: live messages are held again, and any that came while the page was
   * read are fetched, so the history held stays without holes.
   */
  loadNewer(roomId) {
    const { store } = this;
    const hist = store.history(roomId);
    if (!hist.loaded || !hist.detached || this.loading.has(roomId)) return Promise.resolve();
    return this.historyJob(roomId, async () => {
      const after = store.newestSeq(roomId);
      const { messages, has_newer } = await api.messages(roomId, { after, limit: PAGE });
      if (store.history(roomId) !== hist) return;   // reset meanwhile
      store.addMessages(roomId, messages, { newer: true });
      if (!has_newer || !messages.length) await this.joinTail(roomId, hist);
    });
  }

  /** A detached window reached the newest message: live messages are held again, and any
   * that came while it was read are fetched. */
  async joinTail(roomId, hist) {
    hist.detached = false;
    const held = this.store.newestSeq(roomId);
    const last = this.store.rooms.get(roomId)?.last_seq || 0;
    if (last > held) await this.fillGap(roomId, held, last + 1);
  }

  /** Leaves a detached window for the newest page (sending, or "new messages ↓"). */
  jumpToLatest(roomId) {
    if (!this.store.history(roomId).detached) return Promise.resolve();
    this.store.resetHistory(roomId);
    return this.loadInitial(roomId);
  }

  /**
   * Shows message `seq` (a search hit) in its chat with its neighbours: already held, nothing
   * to load; a page or so older than what is held, loaded back to it (loadThrough); further
   * back, only the page around it, detached from the newest messages until newer pages reach
   * them, so an old hit costs one request, not every page in between.
   */
  async openAt(roomId, seq) {
    const { store } = this;
    await this.loadInitial(roomId);
    await this.loading.get(roomId);
    if (store.findMessage(roomId, seq)) return;
    const oldest = store.oldestSeq(roomId);
    if (!store.history(roomId).detached && Number.isFinite(oldest) && oldest - seq <= PAGE) {
      await this.loadThrough(roomId, seq);
      return;
    }
    await this.historyJob(roomId, async () => {
      const { messages, has_more, has_newer } = await api.messages(roomId, { around: seq, limit: PAGE });
      store.resetHistory(roomId);
      const hist = store.history(roomId);
      Object.assign(hist, { loaded: true, hasMore: has_more, detached: true });
      store.addMessages(roomId, messages, { older: true });
      if (!has_newer) await this.joinTail(roomId, hist);
    });
  }

  /**
   * Loads a room's history back to `seq` and a little before it, page by page, so the message
   * shows in context and the history held stays without holes.
   */
  async loadThrough(roomId, seq) {
    const { store } = this;
    await this.loadInitial(roomId);
    for (;;) {
      const hist = store.history(roomId);
      const room = store.rooms.get(roomId);
      const oldest = store.oldestSeq(roomId);
      const enough = oldest <= Math.max(1, seq - CONTEXT_BEFORE);
      if (!room || !hist.loaded || !hist.hasMore || enough) return;
      const running = this.loading.get(roomId);
      if (running) {
        await running;
        continue;
      }
      await this.loadOlder(roomId);
      if (store.oldestSeq(roomId) >= oldest) return;   // nothing came: a failure was shown
    }
  }

  /** Runs a room's history request, one at a time per room; a failure is shown, not thrown. */
  historyJob(roomId, work) {
    const job = work().catch((err) => toast(errorText(err))).finally(() => this.loading.delete(roomId));
    this.loading.set(roomId, job);
    return job;
  }

  isLoading(roomId) {
    return this.loading.has(roomId);
  }

  /** Sends text, or media bytes with an optional caption; shown at once, kept until confirmed. */
  send(roomId, { body = '', replyTo = null, blob = null, mime = null }) {
    // Receivers stop showing "typing…" when our message arrives; the next keystroke must say it again.
    this.lastTypingSent.delete(roomId);
    // What I send shows after the newest message, not after an old window.
    this.jumpToLatest(roomId);
    return this.sender.send(roomId, { body, replyTo, blob, mime });
  }

  retry(clientId) {
    this.sender.retry(clientId);
  }

  discard(clientId) {
    this.sender.discard(clientId);
  }

  edit(roomId, seq, body) {
    return this.sender.edit(roomId, seq, body);
  }

  /** Adds (`on`) or takes back my reaction; the answer updates the message at once. */
  async react(roomId, seq, emoji, on) {
    try {
      const now = on ? await api.react(roomId, seq, emoji) : await api.unreact(roomId, seq, emoji);
      this.store.setReactions(now.room_id, now.seq, now.reactions);
    } catch (err) {
      toast(errorText(err));
    }
  }

  /** Changes my own settings for a room ({ muted?, archived? }) on every device I use. */
  async setRoomSettings(roomId, change) {
    try {
      const now = await api.roomSettings(roomId, change);
      this.store.setRoomSettings(now.room_id, now);
      if ('archived' in change) toast(t(change.archived ? 'room_menu.archived_done' : 'room_menu.unarchived_done'));
    } catch (err) {
      toast(errorText(err));
    }
  }

  /**
   * Changes my profile: `{ display_name?, hide_last_seen? }`, a new photo (`{ photo: Blob }`) or
   * none (`{ photo: null }`). The answer (my user now) shows at once everywhere I appear; others
   * and my other devices hear of it as a `user` event. Throws the ApiError for the form to show.
   */
  async updateProfile(change) {
    let me;
    if ('photo' in change) me = change.photo ? await api.setAvatar(change.photo) : await api.removeAvatar();
    else me = await api.updateMe(change);
    const hidingChanged = me.hide_last_seen !== this.store.me.hide_last_seen;
    this.store.applyUser(me);
    // Whether I see others' "last seen" follows my own setting: the rooms say it afresh.
    if (hidingChanged) {
      try {
        this.store.setRooms((await api.rooms()).rooms);
      } catch { /* the change is made; the next reconnect refreshes the rooms */ }
    }
    return me;
  }

  remove(roomId, seq) {
    if (!this.socket.raw({ type: 'delete', room_id: roomId, seq })) toast(t('conv.offline_delete'));
  }

  typing(roomId) {
    const last = this.lastTypingSent.get(roomId) || 0;
    if (Date.now() - last < TYPING_THROTTLE_MS) return;
    if (this.socket.raw({ type: 'typing', room_id: roomId })) this.lastTypingSent.set(roomId, Date.now());
  }

  markRead(roomId) {
    const { store } = this;
    const room = store.rooms.get(roomId);
    if (!room) return;
    const seq = room.last_seq;
    // Nothing from others to read (the newest messages are my own): no frame to spend.
    if (!seq || seq <= store.myReadMarker(roomId) || !store.hasUnreadFromOthers(roomId)) {
      store.clearUnread(roomId);
      return;
    }
    if (!this.socket.raw({ type: 'read', room_id: roomId, seq })) this.unsentReads.set(roomId, seq);
    store.setReadMarker(roomId, store.me.id, seq);
    store.clearUnread(roomId);
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

  /** Tells the user about a message from someone else: spoken by screen readers, and as a
   * desktop notification when the page is hidden. A muted room tells nothing unless it is
   * the one on screen, or the message mentions me. */
  tell(msg) {
    const room = this.store.rooms.get(msg.room_id);
    if (!room) return;
    const onScreen = room.id === this.store.currentRoomId;
    const heard = !room.muted || mentionsUser(msg, this.store.me.id) || (onScreen && document.visibilityState === 'visible');
    if (!heard) return;
    const title = roomTitle(room, this.store.me);
    const text = previewText(msg);
    if (document.visibilityState === 'visible') {
      announce(onScreen
        ? t('announce.message', { name: msg.sender.display_name, text })
        : t('announce.message_in', { name: msg.sender.display_name, room: title }));
      return;
    }
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const body = room.kind === 'group' ? t('list.preview_from', { name: msg.sender.display_name, text }) : text;
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
