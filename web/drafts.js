// Drafts per chat and user (text and the message being answered), in localStorage, so they
// survive switching chats and reloading. Cleared when sent, and all of a user's on log-out.

const PREFIX = 'chat.draft.';

const keyOf = (userId, roomId) => `${PREFIX}${userId}.${roomId}`;

/** The saved draft of a chat: { text, reply: { seq, sender, preview } | null }, or null. */
export function loadDraft(userId, roomId) {
  try {
    const draft = JSON.parse(localStorage.getItem(keyOf(userId, roomId)) || 'null');
    if (!draft || typeof draft.text !== 'string') return null;
    return { text: draft.text, reply: draft.reply && Number.isInteger(draft.reply.seq) ? draft.reply : null };
  } catch {
    return null;
  }
}

/** Saves a draft; an empty one (no text, no reply) is removed. */
export function saveDraft(userId, roomId, { text, reply }) {
  try {
    if (!text && !reply) localStorage.removeItem(keyOf(userId, roomId));
    else localStorage.setItem(keyOf(userId, roomId), JSON.stringify({ text, reply: reply || null }));
  } catch { /* storage full or disabled: the draft lives as long as the page */ }
}

/** Forgets every draft of a user (log-out). */
export function clearDrafts(userId) {
  const prefix = `${PREFIX}${userId}.`;
  for (let i = localStorage.length - 1; i >= 0; i -= 1) {
    const key = localStorage.key(i);
    if (key?.startsWith(prefix)) localStorage.removeItem(key);
  }
}
