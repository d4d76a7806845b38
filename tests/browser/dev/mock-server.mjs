#!/usr/bin/env node
// A development stand-in for the reference server, implementing docs/api.md and docs/protocol.md
// closely enough to develop the web client and its browser tests while the Rust server is being
// written. Same command line as the real one: --listen HOST:PORT --data-dir DIR --web-dir DIR.
// NOT a server to deploy: passwords are stored in clear, there are no limits. Dependency-free
// (a minimal RFC 6455 implementation for text frames).

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const [host, port] = (args.listen || '127.0.0.1:0').split(':');
const dataDir = args['data-dir'] || './data';
const webDir = args['web-dir'] || './web';
mkdirSync(join(dataDir, 'media'), { recursive: true });
const dbFile = join(dataDir, 'state.json');
const db = existsSync(dbFile) ? JSON.parse(readFileSync(dbFile, 'utf8'))
  : { nextId: 1, users: [], sessions: {}, rooms: [], media: [] };
const save = () => writeFileSync(dbFile, JSON.stringify(db));
const nextId = () => db.nextId++;
const now = () => new Date().toISOString();

const CSP = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };

class HttpError extends Error {
  constructor(status, code, message, field) { super(message); Object.assign(this, { status, code, field }); }
}
const invalid = (field, message) => new HttpError(400, 'invalid', message, field);

const publicUser = (u) => ({ id: u.id, username: u.username, display_name: u.display_name, guest: u.guest });
const selfUser = (u) => ({ ...publicUser(u), admin: u.admin });
const userById = (id) => db.users.find((u) => u.id === id);
const roomById = (id) => db.rooms.find((r) => r.id === id);
const isMember = (room, uid) => room.members.some((m) => m.user_id === uid);

function clean(text) { return String(text ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').normalize('NFC').trim(); }
function oneLine(field, text, max) {
  const s = clean(text).split(/\s+/).filter(Boolean).join(' ');
  if (!s) throw invalid(field, `${field} must not be empty`);
  if ([...s].length > max) throw invalid(field, `${field} must be at most ${max} characters`);
  return s;
}
function checkUsername(u) {
  const s = String(u || '').toLowerCase();
  if (s.length < 3 || s.length > 32) throw invalid('username', 'username must be 3–32 characters');
  if (!/^[a-z0-9_.-]+$/.test(s)) throw invalid('username', "username may only contain letters, digits, '_', '.' and '-'");
  return s;
}
function checkPassword(p) {
  if (typeof p !== 'string' || [...p].length < 8) throw invalid('password', 'password must be at least 8 characters');
  return p;
}

function roomView(room, uid) {
  const msgs = room.messages;
  const myMarker = room.read_markers[uid] || 0;
  return {
    id: room.id, kind: room.kind, name: room.name,
    members: room.members.map((m) => ({ ...publicUser(userById(m.user_id)), role: m.role })),
    role: room.members.find((m) => m.user_id === uid)?.role,
    last_seq: msgs.length, last_message: msgs[msgs.length - 1] || null,
    unread: msgs.filter((m) => m.seq > myMarker && m.sender.id !== uid).length,
    read_markers: room.read_markers, created_at: room.created_at,
  };
}

// ---- live connections
const conns = new Set();   // { uid, send(obj), close(code) }
const online = (uid) => [...conns].some((c) => c.uid === uid);
function toUsers(uids, frame, except) {
  const text = JSON.stringify(frame);
  for (const c of conns) if (uids.includes(c.uid) && c !== except) c.sendText(text);
}
const memberIds = (room) => room.members.map((m) => m.user_id);
const sharingUsers = (uid) => [...new Set(db.rooms.filter((r) => isMember(r, uid)).flatMap(memberIds))].filter((id) => id !== uid);

function appendMessage(room, user, { body, client_id, media_id, reply_to }) {
  if (!isMember(room, user.id)) throw new HttpError(404, 'not_found', 'no such room');
  if (client_id) {
    const dup = room.messages.find((m) => m.client_id === client_id && m.sender.id === user.id);
    if (dup) return { msg: dup, dup: true };
  }
  let media = null;
  if (media_id != null) {
    const m = db.media.find((x) => x.id === media_id && x.room_id === room.id);
    if (!m) throw invalid('media_id', 'unknown media');
    media = { id: m.id, mime: m.mime, size: m.size };
  }
  const text = clean(body);
  if (!text && !media) throw invalid('body', 'body must not be empty');
  if ([...text].length > 4000) throw invalid('body', 'body must be at most 4000 characters');
  const msg = {
    id: nextId(), room_id: room.id, seq: room.messages.length + 1,
    sender: { id: user.id, display_name: user.display_name }, body: text, media,
    reply_to: reply_to ?? null, client_id: client_id || `srv-${randomBytes(6).toString('hex')}`,
    created_at: now(), edited_at: null, deleted: false,
  };
  room.messages.push(msg);
  save();
  return { msg, dup: false };
}

// ---- HTTP
function sessionUser(req) {
  const auth = req.headers.authorization;
  let token = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
  if (!token) token = /(?:^|;\s*)chat_session=([^;]+)/.exec(req.headers.cookie || '')?.[1];
  const uid = token && db.sessions[token];
  const user = uid && userById(uid);
  return user && !user.disabled ? { user, token } : null;
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) });
  res.end(body !== undefined ? JSON.stringify(body) : undefined);
}

function readBody(req) {
  return new Promise((resolve) => { const chunks = []; req.on('data', (c) => chunks.push(c)); req.on('end', () => resolve(Buffer.concat(chunks))); });
}

function login(res, user, status) {
  const token = randomBytes(32).toString('hex');
  db.sessions[token] = user.id;
  save();
  send(res, status, { user: selfUser(user), token }, { 'Set-Cookie': `chat_session=${token}; HttpOnly; SameSite=Lax; Path=/` });
}

async function api(req, res, path, url) {
  const raw = await readBody(req);
  let body = {};
  const ctype = req.headers['content-type'] || '';
  if (ctype.startsWith('application/json') && raw.length) {
    try { body = JSON.parse(raw); } catch { throw new HttpError(400, 'bad_json', 'bad json'); }
  }
  const route = `${req.method} ${path}`;
  if (route === 'POST /auth/register') {
    const username = checkUsername(body.username);
    checkPassword(body.password);
    const display_name = body.display_name ? oneLine('display_name', body.display_name, 40) : username;
    if (db.users.some((u) => u.username === username)) throw new HttpError(409, 'conflict', 'username is taken', 'username');
    const user = { id: nextId(), username, display_name, guest: false, admin: db.users.filter((u) => !u.guest).length === 0, password: body.password, disabled: false, created_at: now() };
    db.users.push(user);
    return login(res, user, 201);
  }
  if (route === 'POST /auth/login') {
    const user = db.users.find((u) => u.username === String(body.username || '').toLowerCase() && u.password === body.password && !u.guest);
    if (!user || user.disabled) throw new HttpError(401, 'unauthenticated', 'wrong username or password');
    return login(res, user, 200);
  }
  if (route === 'POST /auth/guest') {
    const display_name = body.display_name ? oneLine('display_name', body.display_name, 40) : `Guest ${Math.floor(Math.random() * 9000 + 1000)}`;
    const user = { id: nextId(), username: null, display_name, guest: true, admin: false, password: null, disabled: false, created_at: now() };
    db.users.push(user);
    return login(res, user, 201);
  }
  const s = sessionUser(req);
  if (!s) throw new HttpError(401, 'unauthenticated', 'log in first');
  const me = s.user;
  if (route === 'POST /auth/upgrade') {
    if (!me.guest) throw new HttpError(409, 'conflict', 'already an account');
    const username = checkUsername(body.username);
    checkPassword(body.password);
    if (db.users.some((u) => u.username === username)) throw new HttpError(409, 'conflict', 'username is taken', 'username');
    Object.assign(me, { username, password: body.password, guest: false });
    save();
    return send(res, 200, { user: selfUser(me) });
  }
  if (route === 'POST /auth/logout') { delete db.sessions[s.token]; save(); return send(res, 204); }
  if (route === 'GET /me') return send(res, 200, selfUser(me));
  if (route === 'GET /users') {
    const q = (url.searchParams.get('q') || '').toLowerCase();
    const users = db.users.filter((u) => !u.disabled && q && ((u.username || '').startsWith(q) || u.display_name.toLowerCase().startsWith(q))).slice(0, 20).map(publicUser);
    return send(res, 200, { users });
  }
  if (route === 'GET /rooms') {
    const rooms = db.rooms.filter((r) => isMember(r, me.id)).map((r) => roomView(r, me.id))
      .sort((a, b) => (b.last_message?.created_at || b.created_at).localeCompare(a.last_message?.created_at || a.created_at));
    return send(res, 200, { rooms });
  }
  if (route === 'POST /rooms') {
    const name = oneLine('name', body.name, 80);
    const members = [...new Set((body.members || []).filter((id) => id !== me.id && userById(id)))];
    const room = { id: nextId(), kind: 'group', name, members: [{ user_id: me.id, role: 'admin' }, ...members.map((id) => ({ user_id: id, role: 'member' }))], messages: [], read_markers: {}, created_at: now() };
    db.rooms.push(room); save();
    for (const id of members) toUsers([id], { type: 'room', room_id: room.id, event: 'joined', user_id: id });
    return send(res, 201, roomView(room, me.id));
  }
  if (route === 'POST /rooms/direct') {
    const other = userById(body.user_id);
    if (!other || other.id === me.id) throw invalid('user_id', 'no such user');
    let room = db.rooms.find((r) => r.kind === 'direct' && isMember(r, me.id) && isMember(r, other.id));
    if (!room) {
      room = { id: nextId(), kind: 'direct', name: null, members: [{ user_id: me.id, role: 'member' }, { user_id: other.id, role: 'member' }], messages: [], read_markers: {}, created_at: now() };
      db.rooms.push(room); save();
      toUsers([other.id], { type: 'room', room_id: room.id, event: 'joined', user_id: other.id });
    }
    return send(res, 200, roomView(room, me.id));
  }
  let m;
  if ((m = path.match(/^\/media\/(\d+)$/)) && req.method === 'GET') {
    const media = db.media.find((x) => x.id === Number(m[1]));
    const room = media && roomById(media.room_id);
    if (!room || !isMember(room, me.id)) throw new HttpError(404, 'not_found', 'not found');
    const bytes = readFileSync(join(dataDir, 'media', String(media.id)));
    res.writeHead(200, { 'Content-Type': media.mime, 'Content-Length': bytes.length, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
    return res.end(bytes);
  }
  if (path === '/admin/users' || path.startsWith('/admin/')) {
    if (!me.admin) throw new HttpError(403, 'forbidden', 'admins only');
    if (route === 'GET /admin/users') return send(res, 200, { users: db.users.map((u) => ({ ...selfUser(u), disabled: u.disabled, created_at: u.created_at })) });
    if ((m = path.match(/^\/admin\/users\/(\d+)\/disable$/)) && req.method === 'POST') {
      const u = userById(Number(m[1]));
      if (!u) throw new HttpError(404, 'not_found', 'not found');
      u.disabled = true; save();
      for (const c of conns) if (c.uid === u.id) c.close(4001);
      return send(res, 204);
    }
  }
  if (!(m = path.match(/^\/rooms\/(\d+)(\/.*)?$/))) throw new HttpError(404, 'not_found', 'not found');
  const room = roomById(Number(m[1]));
  if (!room || !isMember(room, me.id)) throw new HttpError(404, 'not_found', 'not found');
  const sub = `${req.method} ${m[2] || ''}`;
  const myRole = room.members.find((x) => x.user_id === me.id).role;
  const needAdmin = () => { if (myRole !== 'admin') throw new HttpError(403, 'forbidden', 'admins only'); };
  const notifyRoom = (event, user_id, extra = []) => toUsers([...new Set([...memberIds(room), ...extra])], { type: 'room', room_id: room.id, event, user_id });
  if (sub === 'GET ') return send(res, 200, roomView(room, me.id));
  if (sub === 'PATCH ') { needAdmin(); room.name = oneLine('name', body.name, 80); save(); notifyRoom('renamed', me.id); return send(res, 200, roomView(room, me.id)); }
  if (sub === 'POST /members') {
    needAdmin();
    if (!userById(body.user_id)) throw invalid('user_id', 'no such user');
    if (!isMember(room, body.user_id)) { room.members.push({ user_id: body.user_id, role: body.role || 'member' }); save(); notifyRoom('joined', body.user_id); }
    return send(res, 204);
  }
  if ((m = sub.match(/^(PATCH|DELETE) \/members\/(\d+)$/))) {
    const uid = Number(m[2]);
    if (m[1] === 'PATCH') { needAdmin(); const mem = room.members.find((x) => x.user_id === uid); if (mem) mem.role = body.role; save(); notifyRoom('role', uid); return send(res, 204); }
    if (uid !== me.id) needAdmin();
    room.members = room.members.filter((x) => x.user_id !== uid); save();
    notifyRoom(uid === me.id ? 'left' : 'removed', uid, [uid]);
    return send(res, 204);
  }
  if (sub === 'GET /messages') {
    const before = Number(url.searchParams.get('before') || Infinity);
    const limit = Math.min(100, Number(url.searchParams.get('limit') || 50));
    const older = room.messages.filter((x) => x.seq < before);
    const page = older.slice(-limit);
    return send(res, 200, { messages: page, has_more: older.length > page.length });
  }
  if (sub === 'POST /messages') {
    const { msg, dup } = appendMessage(room, me, body);
    if (!dup) toUsers(memberIds(room), { type: 'message', message: msg });
    return send(res, 201, msg);
  }
  if (sub === 'POST /read') { markRead(room, me, Number(body.seq)); return send(res, 204); }
  if (sub === 'POST /media') {
    const mime = ctype.split(';')[0].trim().toLowerCase().replace('video/webm', 'audio/webm');
    if (!/^(image\/(png|jpeg|gif|webp)|audio\/(webm|ogg|wav|mpeg|mp4|aac))$/.test(mime)) throw new HttpError(415, 'unsupported_media', `unsupported type ${mime}`);
    const media = { id: nextId(), room_id: room.id, mime, size: raw.length };
    writeFileSync(join(dataDir, 'media', String(media.id)), raw);
    db.media.push(media); save();
    return send(res, 201, { id: media.id, mime, size: media.size });
  }
  throw new HttpError(404, 'not_found', 'not found');
}

function markRead(room, user, seq) {
  if (!(seq > (room.read_markers[user.id] || 0))) return;
  room.read_markers[user.id] = Math.min(seq, room.messages.length);
  save();
  toUsers(memberIds(room), { type: 'read', room_id: room.id, user_id: user.id, seq: room.read_markers[user.id] });
}

function serveStatic(req, res, path) {
  const file = normalize(join(webDir, path === '/' ? 'index.html' : path));
  if (!file.startsWith(normalize(webDir)) || !existsSync(file)) return send(res, 404, { error: { code: 'not_found', message: 'not found' } });
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
  res.end(readFileSync(file));
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname.startsWith('/api/v1/')) return await api(req, res, url.pathname.slice(7), url);
    return serveStatic(req, res, url.pathname);
  } catch (err) {
    if (!(err instanceof HttpError)) { console.error(err); err = new HttpError(500, 'internal', 'internal error'); }
    return send(res, err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
  }
});

// ---- WebSocket (text frames only)
server.on('upgrade', (req, socket) => {
  const s = sessionUser(req);
  if (!s || new URL(req.url, 'http://x').pathname !== '/api/v1/ws') { socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n'); return; }
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const user = s.user;
  const conn = {
    uid: user.id,
    sendText(text) { if (!socket.destroyed) socket.write(encodeFrame(0x1, Buffer.from(text))); },
    send(obj) { this.sendText(JSON.stringify(obj)); },
    close(code) { const b = Buffer.alloc(2); b.writeUInt16BE(code); socket.write(encodeFrame(0x8, b)); socket.end(); },
  };
  const wasOnline = online(user.id);
  conns.add(conn);
  conn.send({ type: 'hello', user: selfUser(user), rooms: db.rooms.filter((r) => isMember(r, user.id)).map((r) => ({ room_id: r.id, last_seq: r.messages.length })) });
  for (const id of sharingUsers(user.id)) if (online(id)) conn.send({ type: 'presence', user_id: id, online: true });
  if (!wasOnline) toUsers(sharingUsers(user.id), { type: 'presence', user_id: user.id, online: true });
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const f = decodeFrame(buf);
      if (!f) break;
      buf = buf.subarray(f.length);
      if (f.opcode === 0x8) { socket.end(encodeFrame(0x8, f.payload.subarray(0, 2))); return; }
      if (f.opcode === 0x9) { socket.write(encodeFrame(0xa, f.payload)); continue; }
      if (f.opcode !== 0x1) continue;
      onFrame(conn, userById(user.id), f.payload.toString('utf8'));
    }
  });
  const gone = () => {
    if (!conns.delete(conn)) return;
    if (!online(user.id)) toUsers(sharingUsers(user.id), { type: 'presence', user_id: user.id, online: false });
  };
  socket.on('close', gone);
  socket.on('error', gone);
});

function onFrame(conn, user, text) {
  let f;
  try { f = JSON.parse(text); } catch { return conn.send({ type: 'error', code: 'invalid', message: 'malformed JSON' }); }
  const room = f.room_id != null ? roomById(Number(f.room_id)) : null;
  const member = room && isMember(room, user.id);
  try {
    switch (f.type) {
      case 'ping': return conn.send({ type: 'pong' });
      case 'send': {
        if (!member) throw new HttpError(403, 'forbidden', 'you are not a member of this room');
        const { msg, dup } = appendMessage(room, user, f);
        conn.send({ type: 'ack', client_id: f.client_id, message: msg });
        if (!dup) for (const c of conns) if (c !== conn && memberIds(room).includes(c.uid)) c.send({ type: 'message', message: msg });
        return;
      }
      case 'edit':
      case 'delete': {
        if (!member) throw new HttpError(403, 'forbidden', 'you are not a member of this room');
        const msg = room.messages.find((x) => x.seq === f.seq);
        if (!msg || msg.sender.id !== user.id) throw new HttpError(403, 'forbidden', 'not your message');
        if (f.type === 'edit') { msg.body = clean(f.body); msg.edited_at = now(); } else { Object.assign(msg, { body: '', media: null, deleted: true }); }
        save();
        return toUsers(memberIds(room), { type: f.type === 'edit' ? 'edited' : 'deleted', message: msg });
      }
      case 'typing':
        if (member) toUsers(memberIds(room).filter((id) => id !== user.id), { type: 'typing', room_id: room.id, user: { id: user.id, display_name: user.display_name } });
        return;
      case 'read':
        if (member) markRead(room, user, Number(f.seq));
        return;
      case 'sync': {
        const out = {};
        for (const [rid, last] of Object.entries(f.rooms || {})) {
          const r = roomById(Number(rid));
          if (!r || !isMember(r, user.id)) continue;
          for (const msg of r.messages.filter((x) => x.seq > last)) conn.send({ type: 'message', message: msg });
          out[rid] = r.messages.length;
        }
        return conn.send({ type: 'synced', rooms: out });
      }
      default:
        return conn.send({ type: 'error', code: 'invalid', message: `unknown type ${f.type}` });
    }
  } catch (err) {
    conn.send({ type: 'error', code: err.code || 'internal', message: err.message, ...(f.client_id ? { ref: f.client_id } : {}) });
  }
}

function encodeFrame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  return Buffer.concat([head, payload]);
}

function decodeFrame(buf) {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  const masked = buf[1] & 0x80;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) { if (buf.length < 4) return null; len = buf.readUInt16BE(2); off = 4; } else if (len === 127) { if (buf.length < 10) return null; len = Number(buf.readBigUInt64BE(2)); off = 10; }
  const maskOff = off;
  if (masked) off += 4;
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (masked) for (let i = 0; i < len; i += 1) payload[i] ^= buf[maskOff + (i % 4)];
  return { opcode, payload, length: off + len };
}

server.listen(Number(port), host, () => {
  console.log(`listening on http://${host}:${server.address().port}`);
});
const stop = () => { for (const c of conns) { try { c.close(1001); } catch { /* ignore */ } } server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
