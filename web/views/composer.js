// The composer: text (Enter sends, Shift+Enter breaks the line, ↑ in an empty box edits the last
// own message), reply/edit context, an image (picked, pasted or dropped) with a preview before
// sending, voice recording, and member suggestions after `@` (mentionpicker.js). The text and reply target are the chat's draft, saved as typed.
//
// Extensions: `ctx.composerTools` is a list of functions `(handle) => HTMLElement`; each
// element goes into the composer row before the send button. `handle` is
// { roomId, input, field, tray, getText(), setText(text), focus() }: `field` is the positioned
// box around the input (for overlays), `tray` a slot above the row (for panels).

import { loadDraft, saveDraft } from '../drafts.js';
import { t } from '../i18n.js';
import { followTextDirection, h, iconButton } from '../util/dom.js';
import { formatDuration, mimeEssence, previewText } from '../util/format.js';
import { lastEditable } from '../util/messages.js';
import { attachMentionPicker } from './mentionpicker.js';
import { toast } from './toast.js';
import { startRecording } from './voice.js';

const IMAGE_TYPES = 'image/png,image/jpeg,image/gif,image/webp';

export function renderComposer(ctx, roomId) {
  const { chat, store } = ctx;
  const userId = store.me.id;
  let reply = null;       // { seq, sender, preview } of the message being answered
  let editing = null;     // own message being edited
  let stashed = '';       // the draft text put aside while editing
  let attachment = null;  // { file, url }
  let recording = null;   // recorder handle
  let tickTimer = null;

  const contextBar = h('div', { class: 'composer-context', hidden: true, 'data-testid': 'composer-context' });
  const preview = h('div', { class: 'attach-preview', hidden: true, 'data-testid': 'attach-preview' });
  const fileInput = h('input', { type: 'file', accept: IMAGE_TYPES, class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'file-input' });
  const attachBtn = iconButton('attach', t('composer.attach'), () => fileInput.click(), { 'data-testid': 'attach-button' });
  const input = h('textarea', {
    class: 'composer-input', rows: '1', placeholder: t('composer.placeholder'),
    'aria-label': t('composer.label'), 'data-testid': 'composer-input', maxlength: '4000',
  });
  const sendBtn = iconButton('send', t('composer.send'), () => submit(), { class: 'send-btn', 'data-testid': 'send-button' });
  const micBtn = iconButton('mic', t('composer.record'), () => record(), { class: 'send-btn', 'data-testid': 'mic-button' });
  const field = h('div', { class: 'composer-field' }, input);
  const tray = h('div', { class: 'composer-tray' });
  const handle = {
    roomId, input, field, tray, focus: () => input.focus(),
    getText: () => input.value,
    setText: (text) => { input.value = text; changed(); },
  };
  const updateDirection = followTextDirection(input);
  const tools = (ctx.composerTools || []).map((make) => make(handle));
  const row = h('div', { class: 'composer-row' }, attachBtn, field, ...tools, sendBtn, micBtn);

  const recTime = h('span', { class: 'rec-time', 'data-testid': 'recording-time' }, '0:00');
  const recRow = h('div', { class: 'composer-row recording', hidden: true, 'data-testid': 'recording' },
    iconButton('delete', t('composer.cancel_recording'), () => stopRecording(false), { 'data-testid': 'voice-cancel' }),
    h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), h('span', { class: 'rec-label' }, t('composer.recording')), recTime,
    iconButton('send', t('composer.send_voice'), () => stopRecording(true), { class: 'send-btn', 'data-testid': 'voice-send' }));

  const el = h('footer', { class: 'composer', 'data-testid': 'composer' }, contextBar, preview, tray, row, recRow, fileInput);

  function refreshButtons() {
    const hasContent = input.value.trim().length > 0 || attachment;
    sendBtn.hidden = !hasContent && !editing;
    micBtn.hidden = !sendBtn.hidden;
    attachBtn.hidden = !!editing;
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  function saveNow() {
    if (!editing) saveDraft(userId, roomId, { text: input.value, reply });
  }

  function changed() {
    updateDirection();
    autosize();
    refreshButtons();
    saveNow();
  }

  /** Shows what the next message relates to: a reply (kept in the draft) or an edit. */
  function renderContext() {
    if (!reply && !editing) {
      contextBar.hidden = true;
      contextBar.replaceChildren();
    } else {
      contextBar.hidden = false;
      contextBar.replaceChildren(
        h('div', { class: 'quote static' },
          h('span', { class: 'quote-sender', dir: 'auto' }, editing ? t('composer.editing') : t('composer.replying_to', { name: reply.sender })),
          h('span', { class: 'quote-text', dir: 'auto' }, editing ? previewText(editing) : reply.preview)),
        iconButton('close', editing ? t('composer.cancel_edit') : t('composer.cancel_reply'), () => cancelContext(), { 'data-testid': 'context-cancel' }));
    }
    refreshButtons();
  }

  function startReply(msg) {
    if (editing) endEdit();
    reply = { seq: msg.seq, sender: msg.sender?.display_name || '', preview: previewText(msg) };
    renderContext();
    saveNow();
    input.focus();
  }

  function startEdit(msg) {
    if (!editing) stashed = input.value;
    editing = msg;
    input.value = store.pendingEdit(roomId, msg.seq) ?? msg.body;
    renderContext();
    autosize();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function endEdit() {
    editing = null;
    input.value = stashed;
    stashed = '';
    renderContext();
    autosize();
  }

  /** Esc or ✕: leaves an edit, or drops the reply. False when there was nothing to cancel. */
  function cancelContext() {
    if (editing) endEdit();
    else if (reply) { reply = null; renderContext(); saveNow(); }
    else return false;
    input.focus();
    return true;
  }

  function setAttachment(file) {
    if (attachment) URL.revokeObjectURL(attachment.url);
    attachment = file ? { file, url: URL.createObjectURL(file) } : null;
    preview.hidden = !attachment;
    preview.replaceChildren();
    if (attachment) {
      preview.append(
        h('img', { src: attachment.url, alt: t('composer.selected_image'), class: 'attach-img', 'data-testid': 'attach-image' }),
        h('span', { class: 'attach-name', dir: 'auto' }, file.name || t('composer.pasted_image')),
        iconButton('close', t('composer.remove_image'), () => setAttachment(null), { 'data-testid': 'attach-cancel' }));
      input.placeholder = t('composer.caption');
    } else {
      input.placeholder = t('composer.placeholder');
    }
    refreshButtons();
  }

  /** Takes an image (picked, pasted or dropped) to send with the next message. */
  function attach(file) {
    if (!file) return;
    if (!file.type.startsWith('image/')) { toast(t('composer.images_only')); return; }
    setAttachment(file);
    input.focus();
  }

  /**
   * Sends what is composed. Everything is taken out of the composer at once (the message shows
   * as a pending bubble), so a second Enter while an image uploads has nothing left to send.
   */
  function submit() {
    const body = input.value.trim();
    if (editing) {
      const msg = editing;
      if (body && body !== msg.body) chat.edit(roomId, msg.seq, body);
      endEdit();
      return;
    }
    if (!body && !attachment) return;
    const file = attachment?.file;
    chat.send(roomId, { body, replyTo: reply?.seq ?? null, blob: file || null, mime: file ? mimeEssence(file.type) : null });
    input.value = '';
    reply = null;
    setAttachment(null);
    renderContext();
    changed();
    input.focus();
  }

  async function record() {
    try {
      recording = await startRecording();
    } catch (err) {
      toast(err.name === 'NotAllowedError' ? t('voice.denied') : t('voice.cannot_record', { reason: err.message }));
      return;
    }
    row.hidden = true;
    recRow.hidden = false;
    recTime.textContent = '0:00';
    tickTimer = setInterval(() => { recTime.textContent = formatDuration(recording.elapsed()); }, 250);
    recRow.querySelector('[data-testid="voice-send"]').focus();
  }

  async function stopRecording(send) {
    if (!recording) return;
    const rec = recording;
    recording = null;
    clearInterval(tickTimer);
    recRow.hidden = true;
    row.hidden = false;
    input.focus();
    if (!send) { rec.cancel(); return; }
    const blob = await rec.stop();
    if (!blob.size) { toast(t('voice.empty')); return; }
    chat.send(roomId, { replyTo: reply?.seq ?? null, blob, mime: mimeEssence(blob.type) || 'audio/webm' });
    reply = null;
    renderContext();
    saveNow();
  }

  // First, so that while its list is open the picker takes Enter, Tab, arrows and Esc.
  attachMentionPicker({ input, field, store, roomId, changed });
  input.addEventListener('keydown', (e) => {
    if (e.isComposing) return;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && cancelContext()) {
      e.stopPropagation();
    } else if (e.key === 'ArrowUp' && !input.value && !attachment && !editing && !e.altKey) {
      const last = lastEditable(store.messages(roomId), userId);
      if (last) { e.preventDefault(); startEdit(last); }
    }
  });
  input.addEventListener('input', () => {
    changed();
    if (input.value.trim() && !editing) chat.typing(roomId);
  });
  input.addEventListener('paste', (e) => {
    const file = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith('image/'));
    if (!file) return;
    e.preventDefault();
    attach(file);
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    attach(file);
  });

  const draft = loadDraft(userId, roomId);
  if (draft) {
    input.value = draft.text;
    reply = draft.reply;
  }
  renderContext();
  requestAnimationFrame(autosize);
  return {
    el,
    focus: () => input.focus(),
    reply: startReply,
    edit: startEdit,
    attach,
    cancelContext,
    destroy() {
      if (recording) recording.cancel();
      clearInterval(tickTimer);
      if (attachment) URL.revokeObjectURL(attachment.url);
    },
  };
}
