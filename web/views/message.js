// One message bubble. Pure rendering from a message object; actions are callbacks.

import { api } from '../api.js';
import { h, hueOf, iconButton, linkify } from '../util/dom.js';
import { formatTime, previewText } from '../util/format.js';
import { openViewer } from './viewer.js';
import { voicePlayer } from './voice.js';

/**
 * @param {object} msg message (or pending message)
 * @param {object} opts { own, showSender, group, quoted (message|undefined), onReply, onEdit, onDelete, onRetry, onQuote }
 */
export function renderMessage(msg, opts) {
  const { own, showSender, group, quoted } = opts;
  const pending = !!msg.pending;
  const bubble = h('div', { class: 'bubble' });

  if (showSender && !own && group) {
    const name = h('div', { class: 'msg-sender', 'data-testid': 'message-sender' }, msg.sender?.display_name || 'Unknown');
    name.style.setProperty('--sender-hue', String(hueOf(msg.sender?.display_name || '')));
    bubble.append(name);
  }

  if (msg.reply_to && !msg.deleted) {
    bubble.append(h('button', {
      type: 'button', class: 'quote', 'data-testid': 'message-quote',
      'aria-label': 'Show the quoted message',
      onclick: () => opts.onQuote?.(msg.reply_to),
    },
    h('span', { class: 'quote-sender' }, quoted ? quoted.sender?.display_name || '' : 'Earlier message'),
    h('span', { class: 'quote-text' }, quoted ? previewText(quoted) || ' ' : `Message #${msg.reply_to}`)));
  }

  if (msg.deleted) {
    bubble.append(h('div', { class: 'msg-text deleted', 'data-testid': 'message-body' }, '🚫 This message was deleted'));
  } else {
    const mime = msg.media?.mime || '';
    if (mime.startsWith('image/')) bubble.append(imageThumb(msg));
    else if (mime.startsWith('audio/')) bubble.append(voicePlayer(api.mediaUrl(msg.media.id)));
    else if (msg.media) bubble.append(h('div', { class: 'msg-text muted' }, 'Attachment'));
    if (msg.body) bubble.append(h('div', { class: 'msg-text', 'data-testid': 'message-body' }, linkify(msg.body)));
  }

  const tick = own ? h('span', { class: 'tick', 'data-testid': 'tick' }) : null;
  bubble.append(h('div', { class: 'msg-meta' },
    msg.edited_at && !msg.deleted ? h('span', { class: 'edited' }, 'edited') : null,
    h('time', { datetime: msg.created_at, title: new Date(msg.created_at).toLocaleString() }, formatTime(msg.created_at)),
    tick));

  const actions = h('div', { class: 'msg-actions' });
  if (!pending && !msg.deleted) {
    actions.append(iconButton('reply', 'Reply', () => opts.onReply?.(msg), { 'data-testid': 'action-reply' }));
    if (own && msg.body && !msg.media) actions.append(iconButton('edit', 'Edit', () => opts.onEdit?.(msg), { 'data-testid': 'action-edit' }));
    if (own) actions.append(iconButton('delete', 'Delete', () => opts.onDelete?.(msg), { 'data-testid': 'action-delete' }));
  }
  if (pending && msg.failed) {
    actions.append(h('button', { type: 'button', class: 'retry-btn', onclick: () => opts.onRetry?.(msg) }, 'Retry'));
    actions.classList.add('visible');
  }

  const row = h('div', {
    class: `msg-row ${own ? 'own' : 'other'}${showSender ? ' first' : ''}`,
    'data-testid': 'message',
    'data-seq': pending ? null : msg.seq,
    'data-client-id': msg.client_id || null,
    'data-own': own ? 'true' : 'false',
  }, bubble, actions);
  // Touch devices have no hover: a tap on the bubble reveals the actions.
  bubble.addEventListener('click', (e) => {
    if (e.target.closest('a, button, input, audio')) return;
    row.classList.toggle('show-actions');
  });
  row.tick = tick;
  return row;
}

/** Sets the delivery tick of an own message: pending 🕓, failed !, sent ✓, read ✓✓. */
export function setTick(row, status) {
  if (!row.tick || row.dataset.status === status) return;
  row.dataset.status = status;
  const labels = { pending: ['🕓', 'Sending'], failed: ['!', 'Not sent'], sent: ['✓', 'Sent'], read: ['✓✓', 'Read'] };
  const [text, label] = labels[status];
  row.tick.textContent = text;
  row.tick.setAttribute('aria-label', label);
  row.tick.title = label;
  row.tick.dataset.status = status;
}

function imageThumb(msg) {
  const url = api.mediaUrl(msg.media.id);
  const img = h('img', { src: url, alt: 'Photo', class: 'thumb-img', loading: 'lazy', decoding: 'async', 'data-testid': 'message-image' });
  return h('button', {
    type: 'button', class: 'thumb', 'aria-label': 'Open photo', 'data-testid': 'open-image',
    onclick: () => openViewer(url, msg.body || 'Photo'),
  }, img);
}
