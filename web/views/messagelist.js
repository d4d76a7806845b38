// The message log of one room as keyed DOM: one row per message (keyed by seq, or by client id
// while unsent), inserted where it belongs and patched in place. A new message costs one row
// (and at most one day separator); nothing else on the page is rebuilt, so focus, selection and
// scroll position survive every update.

import { h } from '../util/dom.js';
import { dayKey, dayLabel } from '../util/format.js';
import { createMessageRow, disposeMessageRow, setFirst, setTick, updateMessageRow } from './message.js';

const keyOf = (msg) => (msg.pending ? `c:${msg.client_id}` : `s:${msg.seq}`);

export class MessageList {
  /**
   * @param {HTMLElement} el the container
   * @param {(msg) => object} viewOf the view of a message (see createMessageRow)
   */
  constructor(el, viewOf) {
    this.el = el;
    this.viewOf = viewOf;
    this.entries = new Map();   // key -> { key, msg, row, sep }
    this.byRow = new WeakMap(); // row element -> entry
    this.replies = new Map();   // quoted seq -> Set of entries quoting it
    this.seqs = [];             // seqs of confirmed messages shown, ascending
    this.pending = [];          // client ids of unsent messages shown, in order
  }

  /** Shows a message, or brings its row up to date. Unsent ones stay after the confirmed ones. */
  upsert(msg) {
    const key = keyOf(msg);
    const known = this.entries.get(key);
    if (known) {
      known.msg = msg;
      updateMessageRow(known.row, msg, this.viewOf(msg));
      return known;
    }
    const unsent = !msg.pending && msg.client_id ? this.entries.get(`c:${msg.client_id}`) : null;
    if (unsent) return this.confirm(unsent, msg);
    const entry = { key, msg, row: createMessageRow(msg, this.viewOf(msg)), sep: null };
    this.entries.set(key, entry);
    this.byRow.set(entry.row, entry);
    if (msg.reply_to) {
      if (!this.replies.has(msg.reply_to)) this.replies.set(msg.reply_to, new Set());
      this.replies.get(msg.reply_to).add(entry);
    }
    this.place(entry);
    return entry;
  }

  /** An unsent message got its seq: the same row becomes the confirmed message. */
  confirm(entry, msg) {
    const inPlace = this.pending[0] === msg.client_id && !(msg.seq < this.seqs[this.seqs.length - 1]);
    this.pending.splice(this.pending.indexOf(msg.client_id), 1);
    this.entries.delete(entry.key);
    if (!inPlace) this.detach(entry);
    entry.key = keyOf(msg);
    entry.msg = msg;
    this.entries.set(entry.key, entry);
    if (inPlace) this.seqs.push(msg.seq);
    else this.place(entry);
    updateMessageRow(entry.row, msg, this.viewOf(msg));
    return entry;
  }

  /** Inserts a new entry's row at its place and fixes the separators and runs around it. */
  place(entry) {
    let prev;
    let next;
    if (entry.msg.pending) {
      prev = this.entryAt(this.pending.length ? `c:${this.pending[this.pending.length - 1]}` : this.lastSeqKey());
      next = null;
      this.pending.push(entry.msg.client_id);
    } else {
      const i = insertionIndex(this.seqs, entry.msg.seq);
      prev = i > 0 ? this.entryAt(`s:${this.seqs[i - 1]}`) : null;
      next = i < this.seqs.length ? this.entryAt(`s:${this.seqs[i]}`) : this.entryAt(this.pending.length ? `c:${this.pending[0]}` : null);
      this.seqs.splice(i, 0, entry.msg.seq);
    }
    this.el.insertBefore(entry.row, next ? (next.sep || next.row) : null);
    this.joint(prev, entry);
    this.joint(entry, next);
  }

  /** Removes a message's row (an unsent message given up, a room reset). */
  remove(key) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    if (entry.msg.pending) this.pending.splice(this.pending.indexOf(entry.msg.client_id), 1);
    this.replies.get(entry.msg.reply_to)?.delete(entry);
    const [prev, next] = this.detach(entry);
    disposeMessageRow(entry.row);
    this.joint(prev, next);
  }

  /** Takes an entry's row (and separator) out of the page; returns its former neighbours. */
  detach(entry) {
    const neighbour = (node, dir) => {
      let n = node?.[dir];
      while (n && !this.byRow.has(n)) n = n[dir];
      return n ? this.byRow.get(n) : null;
    };
    const prev = neighbour(entry.sep || entry.row, 'previousElementSibling');
    const next = neighbour(entry.row, 'nextElementSibling');
    if (!entry.msg.pending) {
      const i = this.seqs.indexOf(entry.msg.seq);
      if (i >= 0) this.seqs.splice(i, 1);
    }
    entry.sep?.remove();
    entry.sep = null;
    entry.row.remove();
    return [prev, next];
  }

  /** Between two neighbours: a day separator when the day changes, a new run when the sender does. */
  joint(prev, cur) {
    if (!cur) return;
    const newDay = !prev || dayKey(prev.msg.created_at) !== dayKey(cur.msg.created_at);
    if (newDay && !cur.sep) {
      cur.sep = h('div', { class: 'day-sep', role: 'separator', 'data-testid': 'day-separator' }, h('span', {}, dayLabel(cur.msg.created_at)));
      this.el.insertBefore(cur.sep, cur.row);
    } else if (!newDay && cur.sep) {
      cur.sep.remove();
      cur.sep = null;
    }
    setFirst(cur.row, newDay || prev.msg.sender?.id !== cur.msg.sender?.id);
  }

  entryAt(key) {
    return key ? this.entries.get(key) || null : null;
  }

  lastSeqKey() {
    return this.seqs.length ? `s:${this.seqs[this.seqs.length - 1]}` : null;
  }

  /** The row of a confirmed message. */
  rowOf(seq) {
    return this.entries.get(`s:${seq}`)?.row;
  }

  /** Re-renders the rows that quote `seq` (its text changed, or it just arrived). */
  refreshQuotes(seq) {
    for (const entry of this.replies.get(seq) || []) updateMessageRow(entry.row, entry.msg, this.viewOf(entry.msg));
  }

  /** Brings the delivery tick of one own message up to date. */
  tick(entry, statusOf) {
    if (entry.row.parts.tick) setTick(entry.row, statusOf(entry.msg));
  }

  /** Brings the delivery ticks of all own messages up to date. */
  updateTicks(statusOf) {
    for (const entry of this.entries.values()) this.tick(entry, statusOf);
  }

  /** The first row whose bottom is below `top` (to keep it in place while older rows arrive). */
  firstVisible(top) {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rowOf(this.seqs[mid]).getBoundingClientRect().bottom > top) hi = mid; else lo = mid + 1;
    }
    return lo < this.seqs.length ? this.rowOf(this.seqs[lo]) : null;
  }

  get size() {
    return this.entries.size;
  }

  /** Empties the list, releasing what the rows hold. */
  clear() {
    for (const entry of this.entries.values()) disposeMessageRow(entry.row);
    this.entries.clear();
    this.replies.clear();
    this.seqs = [];
    this.pending = [];
    this.el.replaceChildren();
  }
}

/** Index at which `seq` keeps `sorted` ascending (appending is the common, O(1) case). */
function insertionIndex(sorted, seq) {
  if (!sorted.length || seq > sorted[sorted.length - 1]) return sorted.length;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < seq) lo = mid + 1; else hi = mid;
  }
  return lo;
}
