// Rules about messages that do not depend on where they are shown. Pure functions, no DOM.

/**
 * Whether `a` is a later version of the same message than `b`. A delete is final; otherwise
 * the later `edited_at` wins. Equal versions are not newer, so applying one changes nothing.
 */
export function isNewer(a, b) {
  return version(a) > version(b);
}

function version(msg) {
  if (msg.deleted) return Infinity;
  return msg.edited_at ? Date.parse(msg.edited_at) || 0 : 0;
}

/** The newest own message that can still be edited (text, not deleted), or undefined. */
export function lastEditable(messages, meId) {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i];
    if (m.sender?.id === meId && !m.deleted && m.body && !m.media) return m;
  }
  return undefined;
}
