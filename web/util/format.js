// Formatting of times, previews and room titles. Pure functions, no DOM; words and formats
// follow the chosen language.

import { language, t } from '../i18n.js';

const formats = new Map();
/** A cached Intl.DateTimeFormat for the current language. */
function fmt(name, options) {
  const key = `${language()}:${name}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(language(), options));
  return formats.get(key);
}
const timeFmt = () => fmt('time', { hour: '2-digit', minute: '2-digit' });
const weekdayFmt = () => fmt('weekday', { weekday: 'long' });
const dateFmt = () => fmt('date', { day: 'numeric', month: 'short', year: 'numeric' });
const shortDateFmt = () => fmt('short', { day: '2-digit', month: '2-digit', year: '2-digit' });
const numericDateFmt = () => fmt('numeric', { day: '2-digit', month: '2-digit', year: 'numeric' });
const fullFmt = () => fmt('full', { dateStyle: 'medium', timeStyle: 'short' });

function startOfDay(date) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  return d;
}

function daysAgo(date) {
  return Math.round((startOfDay(new Date()) - startOfDay(date)) / 86400000);
}

/** "14:05" */
export function formatTime(iso) {
  return iso ? timeFmt().format(new Date(iso)) : '';
}

/** Date and time in full, for a tooltip. */
export function formatFull(iso) {
  return iso ? fullFmt().format(new Date(iso)) : '';
}

/** Chat list time: today "14:05", "Yesterday", weekday within a week, else a short date. */
export function formatListTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const ago = daysAgo(date);
  if (ago <= 0) return timeFmt().format(date);
  if (ago === 1) return t('day.yesterday');
  if (ago < 7) return weekdayFmt().format(date);
  return shortDateFmt().format(date);
}

/**
 * When someone was last seen: "last seen today at 14:05", "last seen yesterday at 09:12", or
 * "last seen 28/11/2026" (the date as the language writes it). Empty without a time.
 */
export function formatLastSeen(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const ago = daysAgo(date);
  if (ago <= 0) return t('conv.last_seen_today', { time: timeFmt().format(date) });
  if (ago === 1) return t('conv.last_seen_yesterday', { time: timeFmt().format(date) });
  return t('conv.last_seen_date', { date: numericDateFmt().format(date) });
}

/** Key of the local calendar day of a timestamp. */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** Date separator label: "Today", "Yesterday", weekday, or a date. */
export function dayLabel(iso) {
  const date = new Date(iso);
  const ago = daysAgo(date);
  if (ago <= 0) return t('day.today');
  if (ago === 1) return t('day.yesterday');
  if (ago < 7) return weekdayFmt().format(date);
  return dateFmt().format(date);
}

/** "0:07", "1:23" */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One-line preview of a message for the chat list. */
export function previewText(message) {
  if (!message) return '';
  if (message.deleted) return t('message.deleted');
  const mime = message.media?.mime || '';
  const body = (message.body || '').replace(/\s+/g, ' ').trim();
  if (mime.startsWith('image/')) return body ? t('preview.photo_caption', { text: body }) : t('preview.photo');
  if (mime.startsWith('audio/')) return t('preview.voice');
  if (message.kind && !body) return t('message.unsupported');
  return body;
}

/** The other member of a direct room (or undefined). */
export function otherMember(room, me) {
  return room.members?.find((m) => m.id !== me?.id);
}

/** Displayed name of a room: its name, or the other member's display name for direct rooms. */
export function roomTitle(room, me) {
  if (room.kind === 'direct') {
    const other = otherMember(room, me);
    return other?.display_name || other?.username || t('room.direct');
  }
  return room.name || t('room.group');
}

/** Timestamp of last activity, for sorting. */
export function activityOf(room) {
  return Date.parse(room.last_message?.created_at || room.created_at || 0) || 0;
}

/** Mime without parameters: "audio/webm;codecs=opus" → "audio/webm". */
export function mimeEssence(mime) {
  return String(mime || '').split(';')[0].trim().toLowerCase();
}

/** A fresh idempotency key for a send. */
export function newClientId() {
  // The time first, in fixed-width hex, so ids sort by time (the server indexes them cheaply);
  // then random bytes, so they never repeat.
  const time = Date.now().toString(16).padStart(12, '0');
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return 'c-' + time + '-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
