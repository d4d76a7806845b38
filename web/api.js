// REST client for /api/v1 (docs/api.md). Uses the HttpOnly session cookie; never sees the token.

import { t } from './i18n.js';

/** An API failure with the server's stable error code (and `field` for validation errors). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

const BASE = '/api/v1';

async function request(method, path, body, contentType) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body instanceof Blob) {
    init.body = body;
    init.headers['Content-Type'] = contentType || body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const err = data?.error || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText || t('error.unknown'), err.field);
  }
  return data;
}

/**
 * Uploads bytes with XMLHttpRequest, the one browser API that reports upload progress
 * (`onProgress` gets 0…1). Answers and fails like `request`.
 */
function upload(path, blob, mime, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', mime || blob.type || 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress?.(e.loaded / e.total); });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.response); return; }
      const err = xhr.response?.error || {};
      reject(new ApiError(xhr.status, err.code || `http_${xhr.status}`, err.message || xhr.statusText || t('error.unknown'), err.field));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', t('error.network'))));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'network', t('error.network'))));
    xhr.send(blob);
  });
}

const enc = encodeURIComponent;

export const api = {
  me: () => request('GET', '/me'),
  register: (username, password, display_name) => request('POST', '/auth/register', { username, password, ...(display_name ? { display_name } : {}) }),
  login: (username, password) => request('POST', '/auth/login', { username, password }),
  guest: (display_name) => request('POST', '/auth/guest', display_name ? { display_name } : {}),
  upgrade: (username, password) => request('POST', '/auth/upgrade', { username, password }),
  logout: () => request('POST', '/auth/logout'),
  /** Changes my profile ({ display_name?, hide_last_seen? }); answers my user now. */
  updateMe: (change) => request('PATCH', '/me', change),
  /** Sets my photo from image bytes (the server crops it square); answers my user now. */
  setAvatar: (blob) => request('PUT', '/me/avatar', blob),
  /** Removes my photo; answers my user now. */
  removeAvatar: () => request('DELETE', '/me/avatar'),
  /** Where a user's photo is (an immutable URL per photo), or null when they have none. */
  avatarUrl: (user) => (user?.avatar ? `${BASE}/users/${enc(user.id)}/avatar/${enc(user.avatar)}` : null),

  searchUsers: (q) => request('GET', `/users?q=${enc(q)}`),
  /** Messages of my rooms containing `q`, newest first: { hits: [{ message, matches }], next_before }. */
  searchMessages: (q, before) => request('GET', `/search?q=${enc(q)}${before ? `&before=${enc(before)}` : ''}`),

  rooms: () => request('GET', '/rooms'),
  room: (id) => request('GET', `/rooms/${enc(id)}`),
  createGroup: (name, members) => request('POST', '/rooms', { name, members }),
  direct: (user_id) => request('POST', '/rooms/direct', { user_id }),
  renameRoom: (id, name) => request('PATCH', `/rooms/${enc(id)}`, { name }),
  addMember: (id, user_id) => request('POST', `/rooms/${enc(id)}/members`, { user_id }),
  setRole: (id, user_id, role) => request('PATCH', `/rooms/${enc(id)}/members/${enc(user_id)}`, { role }),
  removeMember: (id, user_id) => request('DELETE', `/rooms/${enc(id)}/members/${enc(user_id)}`),

  /** Creates an invite link (admins): { expires_in_secs?, max_uses? } → the link with its token, shown once. */
  createInvite: (id, options = {}) => request('POST', `/rooms/${enc(id)}/invites`, options),
  /** The group's invite links (admins), oldest first, each with its state: { invites }. */
  invites: (id) => request('GET', `/rooms/${enc(id)}/invites`),
  revokeInvite: (id, inviteId) => request('DELETE', `/rooms/${enc(id)}/invites/${enc(inviteId)}`),
  /** What an invite link leads to, without a session: { room_name, member_count, expires_at }. */
  invitePreview: (token) => request('GET', `/invites/${enc(token)}`),
  /** Joins the link's group (or finds me already in it): the room. */
  joinInvite: (token) => request('POST', `/invites/${enc(token)}/join`),

  /** A page of history: the newest, or `before`, `around` or `after` a seq (at most one). */
  messages: (id, { before, around, after, limit = 50 } = {}) => {
    const [name, seq] = Object.entries({ before, around, after }).find(([, v]) => v != null) || [];
    return request('GET', `/rooms/${enc(id)}/messages?limit=${limit}${name ? `&${name}=${enc(seq)}` : ''}`);
  },
  /** Adds my reaction; answers the message's reactions now: { room_id, seq, reactions }. */
  react: (id, seq, emoji) => request('PUT', `/rooms/${enc(id)}/messages/${enc(seq)}/reactions/${enc(emoji)}`),
  /** Changes my own settings for a room ({ muted?, archived? }); answers { room_id, muted, archived }. */
  roomSettings: (id, change) => request('PATCH', `/rooms/${enc(id)}/settings`, change),
  /** Takes my reaction back; answers like `react`. */
  unreact: (id, seq, emoji) => request('DELETE', `/rooms/${enc(id)}/messages/${enc(seq)}/reactions/${enc(emoji)}`),
  uploadMedia: (id, blob, mime, onProgress) => upload(`/rooms/${enc(id)}/media`, blob, mime, onProgress),
  mediaUrl: (mediaId) => `${BASE}/media/${enc(mediaId)}`,
  thumbnailUrl: (mediaId) => `${BASE}/media/${enc(mediaId)}/thumbnail`,

  /** What the writing assistant offers: { kinds, languages, translate_to, llm, … }. */
  assistOffer: () => request('GET', '/assist'),
  /** Suggestions for a draft (never stored): { draft, kinds?, translate_to?, room_id?, include_context? }. */
  assist: (body) => request('POST', '/assist', body),

  /** One page of users ordered by id, starting after the given id (pages of up to 200). */
  adminUsers: (after = 0) => request('GET', `/admin/users?after=${enc(after)}&limit=200`),
  disableUser: (id) => request('POST', `/admin/users/${enc(id)}/disable`),
};
