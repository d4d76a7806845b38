// One message bubble: built once per message and patched in place when the message changes
// (edit, delete, upload progress, failure, confirmation). Actions are callbacks.

import { api } from '../api.js';
import { t, tOr } from '../i18n.js';
import { h, hueOf, iconButton, linkify } from '../util/dom.js';
import { bodyNodes, mentionsUser } from '../util/mentions.js';
import { formatFull, formatTime, previewText } from '../util/format.js';
import { openViewer } from './viewer.js';
import { voicePlayer } from './voice.js';

/** The reactions the picker offers (any emoji shown under a message can be added by a click). */
export const PICKER_EMOJIS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/** How long Retry waits after a send was refused as too fast. */
const RATE_LIMIT_PAUSE_MS = 1000;

/**
 * The view of a message: { own, group, senderGuest, quoted (message | undefined), pendingEdit (text |
 * undefined), me (my user id), nameOf (user id → name), actions: { reply, edit, delete, retry,
 * discard, quote, react } (each gets the message; react also the emoji and whether to add it) }.
 */
export function createMessageRow(msg, view) {
  const bubble = h('div', { class: 'bubble' });
  const actions = h('div', { class: 'msg-actions' });
  const row = h('div', { class: `msg-row ${view.own ? 'own' : 'other'}`, 'data-testid': 'message', 'data-own': view.own ? 'true' : 'false' }, bubble, actions);
  // Touch devices have no hover: a tap on the bubble reveals the actions.
  bubble.addEventListener('click', (e) => {
    if (e.target.closest('a, button, input, audio')) return;
    row.classList.toggle('show-actions');
  });
  row.parts = { bubble, actions, signature: null, dispose: null, progress: null, tick: null };
  updateMessageRow(row, msg, view);
  return row;
}

/** Brings a row up to date with a (new version of a) message; unchanged rows are not touched. */
export function updateMessageRow(row, msg, view) {
  const parts = row.parts;
  if (msg.pending) delete row.dataset.seq; else row.dataset.seq = String(msg.seq);
  if (msg.client_id) row.dataset.clientId = msg.client_id;
  // A message that names me stands out (and notifies me even in a muted chat, see chat.js).
  row.classList.toggle('mentions-me', !msg.deleted && mentionsUser(msg, view.me));
  setProgress(row, msg.progress);
  const quoted = view.quoted;
  const signature = JSON.stringify([
    msg.seq ?? null, msg.body, msg.deleted, msg.edited_at, msg.media?.id ?? msg.media?.local ?? null, msg.kind ?? null,
    !!msg.pending, msg.failed ?? null, view.pendingEdit ?? null, !!view.senderGuest,
    quoted ? [quoted.seq, quoted.edited_at, quoted.deleted] : null,
    msg.reactions || [], view.me ?? null, msg.mentions || [],
  ]);
  if (parts.signature === signature) return;
  parts.signature = signature;
  // Keep keyboard focus on the same control when the bubble is rebuilt under it.
  const focused = row.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
  parts.dispose?.();
  parts.dispose = null;
  fillBubble(row, msg, view);
  fillActions(row, msg, view);
  setProgress(row, msg.progress);
  if (focused) row.querySelector(`[data-testid="${focused}"]`)?.focus();
}

/** Marks the first message of a run from one sender (its bubble shows the sender's name). */
export function setFirst(row, first) {
  row.classList.toggle('first', first);
}

/** Sets the delivery tick of an own message: pending 🕓, failed !, sent ✓, read ✓✓. */
export function setTick(row, status) {
  const tick = row.parts.tick;
  if (!tick || tick.dataset.status === status) return;
  const text = { pending: '🕓', failed: '!', sent: '✓', read: '✓✓' }[status];
  tick.textContent = text;
  tick.dataset.status = status;
  row.dataset.status = status;
  const label = t(`tick.${status}`);
  tick.setAttribute('aria-label', label);
  tick.title = label;
}

/** Releases what a row holds (object URLs of played voice notes) before it leaves the page. */
export function disposeMessageRow(row) {
  row.parts.dispose?.();
  row.parts.dispose = null;
}

function fillBubble(row, msg, view) {
  const { bubble } = row.parts;
  const nodes = [];
  if (view.group && !view.own) {
    const name = h('div', { class: 'msg-sender', dir: 'auto', 'data-testid': 'message-sender' }, msg.sender?.display_name || t('user.unknown'));
    name.style.setProperty('--sender-hue', String(hueOf(msg.sender?.display_name || '')));
    // Display names are not unique: say when the sender is a guest, so a guest cannot pass
    // for the registered user whose name they took.
    const guest = view.senderGuest ? h('span', { class: 'msg-guest', 'data-testid': 'message-sender-guest' }, t('user.guest')) : null;
    nodes.push(guest ? h('div', { class: 'msg-sender-line' }, name, guest) : name);
  }
  if (msg.reply_to && !msg.deleted) nodes.push(quoteButton(msg, view));
  if (msg.deleted) {
    nodes.push(h('div', { class: 'msg-text deleted', 'data-testid': 'message-body' }, t('message.deleted')));
  } else {
    nodes.push(...mediaNodes(row, msg));
    // A custom kind the host application defined: this client draws none of them, so it says
    // so and shows only the text next to it. The payload is never rendered.
    if (msg.kind) nodes.push(h('div', { class: 'msg-text muted', 'data-testid': 'message-unsupported' }, t('message.unsupported')));
    // An edit not confirmed yet has no resolved mentions: it shows as plain text until then.
    const body = view.pendingEdit ?? msg.body;
    const text = view.pendingEdit === undefined ? bodyNodes(body, msg.mentions, view.me) : linkify(body);
    if (body) nodes.push(h('div', { class: 'msg-text', dir: 'auto', 'data-testid': 'message-body' }, text));
  }
  if (msg.failed) nodes.push(h('div', { class: 'msg-failed', 'data-testid': 'message-failed' }, t('send.failed', { reason: tOr(`send.reason.${msg.failed}`, 'send.reason.unknown') })));
  const tick = view.own ? h('span', { class: 'tick', 'data-testid': 'tick' }) : null;
  const editPending = view.pendingEdit !== undefined && !msg.deleted;
  if (editPending) row.dataset.editPending = 'true'; else delete row.dataset.editPending;
  const edited = (msg.edited_at || editPending) && !msg.deleted;
  nodes.push(h('div', { class: 'msg-meta' },
    edited ? h('span', { class: 'edited', title: editPending ? t('tick.pending') : null }, t('message.edited'), editPending ? ' 🕓' : '') : null,
    h('time', { datetime: msg.created_at, title: formatFull(msg.created_at) }, formatTime(msg.created_at)),
    tick));
  if (!msg.deleted && msg.reactions?.length) nodes.push(reactionStrip(msg, view));
  bubble.replaceChildren(...nodes);
  const previous = row.parts.tick?.dataset.status;
  row.parts.tick = tick;
  if (tick && previous) setTick(row, previous);
}

/** The counts under a message: one button per emoji, pressed when I reacted with it. */
function reactionStrip(msg, view) {
  return h('div', { class: 'reactions', 'data-testid': 'reactions' }, msg.reactions.map((r) => {
    const mine = r.users.includes(view.me);
    const names = r.users.map((id) => view.nameOf?.(id) || '').join(', ');
    return h('button', {
      type: 'button', class: 'reaction', 'data-testid': 'reaction', 'data-emoji': r.emoji,
      'aria-pressed': mine ? 'true' : 'false', title: names,
      'aria-label': t('reaction.label', { emoji: r.emoji, n: r.users.length, names }),
      onclick: () => view.actions.react?.(msg, r.emoji, !mine),
    }, h('span', { class: 'reaction-emoji' }, r.emoji), h('span', { class: 'reaction-count' }, String(r.users.length)));
  }));
}

/** A row of emojis to react with; toggles my reaction and closes. */
function reactionPicker(msg, view, close) {
  const mine = (emoji) => !!msg.reactions?.find((r) => r.emoji === emoji)?.users.includes(view.me);
  const picker = h('div', { class: 'reaction-picker', role: 'group', 'aria-label': t('reaction.picker'), 'data-testid': 'reaction-picker' },
    PICKER_EMOJIS.map((emoji) => h('button', {
      type: 'button', class: 'reaction-choice', 'data-testid': 'reaction-choice', 'data-emoji': emoji,
      'aria-pressed': mine(emoji) ? 'true' : 'false',
      onclick: () => { close(); view.actions.react?.(msg, emoji, !mine(emoji)); },
    }, emoji)));
  picker.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(); } });
  return picker;
}

function quoteButton(msg, view) {
  const { quoted } = view;
  return h('button', {
    type: 'button', class: 'quote', 'data-testid': 'message-quote',
    'aria-label': t('message.show_quoted'),
    onclick: () => view.actions.quote?.(msg.reply_to),
  },
  h('span', { class: 'quote-sender', dir: 'auto' }, quoted ? quoted.sender?.display_name || '' : t('message.earlier')),
  h('span', { class: 'quote-text', dir: 'auto' }, quoted ? previewText(quoted) || ' ' : t('message.number', { n: msg.reply_to })));
}

function mediaNodes(row, msg) {
  const mime = msg.media?.mime || '';
  const url = msg.media?.local || (msg.media?.id ? api.mediaUrl(msg.media.id) : null);
  if (mime.startsWith('image/') && url) {
    const small = msg.media?.thumbnail && !msg.media?.local ? api.thumbnailUrl(msg.media.id) : url;
    return [imageThumb(small, url, msg.media, msg.body)];
  }
  if (mime.startsWith('audio/') && msg.media?.id && !msg.pending) {
    const player = voicePlayer(api.mediaUrl(msg.media.id), msg.media.duration_ms);
    row.parts.dispose = player.dispose;
    return [player.el];
  }
  if (mime.startsWith('audio/')) return [h('div', { class: 'msg-text muted' }, t('preview.voice'))];
  if (msg.media) return [h('div', { class: 'msg-text muted' }, t('message.attachment'))];
  return [];
}

/** The bubble shows the thumbnail (`small`); the viewer the full image. Known dimensions size
 * the box before any byte arrives, so the list does not jump while scrolling. */
function imageThumb(small, full, media, caption) {
  const sized = media?.width > 0 && media?.height > 0;
  const img = h('img', {
    src: small, alt: t('message.photo'), class: sized ? 'thumb-img sized' : 'thumb-img',
    loading: 'lazy', decoding: 'async', 'data-testid': 'message-image',
    ...(sized ? { width: String(media.width), height: String(media.height) } : {}),
  });
  return h('button', {
    type: 'button', class: 'thumb', 'aria-label': t('message.open_photo'), 'data-testid': 'open-image',
    onclick: () => openViewer(full, caption || t('message.photo')),
  }, img);
}

function fillActions(row, msg, view) {
  const { actions } = row.parts;
  const { actions: on } = view;
  const nodes = [];
  if (msg.pending && msg.failed) {
    const retry = h('button', { type: 'button', class: 'retry-btn', 'data-testid': 'action-retry', onclick: () => on.retry?.(msg) }, t('action.retry'));
    // Refused for sending too fast: retrying at once would only be refused again.
    const wait = msg.failed === 'rate_limited' ? RATE_LIMIT_PAUSE_MS - (Date.now() - (msg.failedAt || 0)) : 0;
    if (wait > 0) {
      retry.disabled = true;
      setTimeout(() => { retry.disabled = false; }, wait);
    }
    nodes.push(retry);
    nodes.push(h('button', { type: 'button', class: 'retry-btn', 'data-testid': 'action-discard', onclick: () => on.discard?.(msg) }, t('action.discard')));
  } else if (!msg.pending && !msg.deleted) {
    nodes.push(iconButton('react', t('message.react'), () => togglePicker(row, msg, view), { 'data-testid': 'action-react' }));
    nodes.push(iconButton('reply', t('message.reply'), () => on.reply?.(msg), { 'data-testid': 'action-reply' }));
    if (view.own && msg.body && !msg.media) nodes.push(iconButton('edit', t('message.edit'), () => on.edit?.(msg), { 'data-testid': 'action-edit' }));
    if (view.own) nodes.push(iconButton('delete', t('message.delete'), () => on.delete?.(msg), { 'data-testid': 'action-delete' }));
  }
  actions.classList.toggle('visible', !!(msg.pending && msg.failed));
  actions.replaceChildren(...nodes);
}

/**
 * Opens the reaction picker at the foot of the bubble (in the flow, so it wraps and is never
 * clipped on a phone), or closes it. A rebuild of the bubble (a reaction arrived) closes it.
 */
function togglePicker(row, msg, view) {
  const open = row.parts.bubble.querySelector('[data-testid="reaction-picker"]');
  if (open) { open.remove(); return; }
  const close = () => { picker.remove(); row.parts.actions.querySelector('[data-testid="action-react"]')?.focus(); };
  const picker = reactionPicker(msg, view, close);
  row.parts.bubble.append(picker);
  picker.querySelector('button')?.focus();
}

/** Shows upload progress (0…1) in the bubble, or removes the bar (null). */
function setProgress(row, progress) {
  const parts = row.parts;
  if (progress == null) {
    parts.progress?.remove();
    parts.progress = null;
    return;
  }
  if (!parts.progress || !parts.progress.isConnected) {
    parts.progress = h('progress', { class: 'upload-progress', max: '1', 'aria-label': t('message.uploading'), 'data-testid': 'upload-progress' });
    parts.bubble.prepend(parts.progress);
  }
  parts.progress.value = progress;
}
