// The composer: text (Enter sends, Shift+Enter breaks the line), reply/edit context,
// an image with preview before sending, and voice recording.

import { h, icon, iconButton } from '../util/dom.js';
import { formatDuration, mimeEssence, previewText } from '../util/format.js';
import { toast } from './toast.js';
import { startRecording } from './voice.js';

export function renderComposer(ctx, roomId) {
  const { chat } = ctx;
  let replyTo = null;     // message being answered
  let editing = null;     // own message being edited
  let attachment = null;  // { file, url }
  let recording = null;   // recorder handle
  let tickTimer = null;

  const contextBar = h('div', { class: 'composer-context', hidden: true, 'data-testid': 'composer-context' });
  const preview = h('div', { class: 'attach-preview', hidden: true, 'data-testid': 'attach-preview' });
  const fileInput = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'file-input' });
  const attachBtn = iconButton('attach', 'Attach an image', () => fileInput.click(), { 'data-testid': 'attach-button' });
  const input = h('textarea', { class: 'composer-input', rows: '1', placeholder: 'Type a message', 'aria-label': 'Message', 'data-testid': 'composer-input', maxlength: '4000' });
  const sendBtn = iconButton('send', 'Send', () => submit(), { class: 'send-btn', 'data-testid': 'send-button' });
  const micBtn = iconButton('mic', 'Record a voice message', () => record(), { class: 'send-btn', 'data-testid': 'mic-button' });
  const row = h('div', { class: 'composer-row' }, attachBtn, input, sendBtn, micBtn);

  const recTime = h('span', { class: 'rec-time', 'data-testid': 'recording-time' }, '0:00');
  const recRow = h('div', { class: 'composer-row recording', hidden: true, 'data-testid': 'recording' },
    iconButton('delete', 'Cancel recording', () => stopRecording(false), { 'data-testid': 'voice-cancel' }),
    h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), h('span', { class: 'rec-label' }, 'Recording'), recTime,
    iconButton('send', 'Send voice message', () => stopRecording(true), { class: 'send-btn', 'data-testid': 'voice-send' }));

  const el = h('footer', { class: 'composer', 'data-testid': 'composer' }, contextBar, preview, row, recRow, fileInput);

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

  function setContext(kind, msg) {
    replyTo = kind === 'reply' ? msg : null;
    editing = kind === 'edit' ? msg : null;
    if (!msg) {
      contextBar.hidden = true;
      contextBar.replaceChildren();
    } else {
      contextBar.hidden = false;
      contextBar.replaceChildren(
        h('div', { class: 'quote static' },
          h('span', { class: 'quote-sender' }, kind === 'edit' ? 'Edit message' : `Replying to ${msg.sender?.display_name || ''}`),
          h('span', { class: 'quote-text' }, previewText(msg))),
        iconButton('close', kind === 'edit' ? 'Cancel editing' : 'Cancel reply', () => { if (editing) input.value = ''; setContext(null); autosize(); }, { 'data-testid': 'context-cancel' }));
    }
    refreshButtons();
  }

  function setAttachment(file) {
    if (attachment) URL.revokeObjectURL(attachment.url);
    attachment = file ? { file, url: URL.createObjectURL(file) } : null;
    preview.hidden = !attachment;
    preview.replaceChildren();
    if (attachment) {
      preview.append(
        h('img', { src: attachment.url, alt: 'Selected image', class: 'attach-img', 'data-testid': 'attach-image' }),
        h('span', { class: 'attach-name' }, file.name),
        iconButton('close', 'Remove image', () => setAttachment(null), { 'data-testid': 'attach-cancel' }));
      input.placeholder = 'Add a caption';
    } else {
      input.placeholder = 'Type a message';
    }
    refreshButtons();
  }

  async function submit() {
    const body = input.value.trim();
    if (editing) {
      if (body && body !== editing.body) chat.edit(roomId, editing.seq, body);
      input.value = '';
      setContext(null);
      autosize();
      return;
    }
    if (attachment) {
      const { file } = attachment;
      const reply = replyTo?.seq ?? null;
      sendBtn.disabled = true;
      try {
        await chat.sendMedia(roomId, file, mimeEssence(file.type), body, reply);
        input.value = '';
        setAttachment(null);
        setContext(null);
      } catch (err) {
        toast(`Could not send the image: ${err.message}`);
      } finally {
        sendBtn.disabled = false;
        autosize();
      }
      return;
    }
    if (!body) return;
    chat.sendText(roomId, body, replyTo?.seq ?? null);
    input.value = '';
    setContext(null);
    autosize();
    input.focus();
  }

  async function record() {
    try {
      recording = await startRecording();
    } catch (err) {
      toast(err.name === 'NotAllowedError' ? 'Microphone access was denied.' : `Cannot record: ${err.message}`);
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
    const handle = recording;
    recording = null;
    clearInterval(tickTimer);
    recRow.hidden = true;
    row.hidden = false;
    if (!send) { handle.cancel(); input.focus(); return; }
    const blob = await handle.stop();
    if (!blob.size) { toast('The recording is empty.'); return; }
    try {
      await chat.sendMedia(roomId, blob, mimeEssence(blob.type) || 'audio/webm', '', replyTo?.seq ?? null);
      setContext(null);
    } catch (err) {
      toast(`Could not send the voice message: ${err.message}`);
    }
  }

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && (replyTo || editing)) {
      if (editing) input.value = '';
      setContext(null);
    }
  });
  input.addEventListener('input', () => {
    autosize();
    refreshButtons();
    if (input.value.trim()) chat.typing(roomId);
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (file && !file.type.startsWith('image/')) { toast('Only images can be attached.'); return; }
    if (file) { setAttachment(file); input.focus(); }
  });

  refreshButtons();
  return {
    el,
    focus: () => input.focus(),
    reply(msg) { setContext('reply', msg); input.focus(); },
    edit(msg) { setContext('edit', msg); input.value = msg.body; autosize(); refreshButtons(); input.focus(); },
    destroy() {
      if (recording) recording.cancel();
      clearInterval(tickTimer);
      if (attachment) URL.revokeObjectURL(attachment.url);
    },
  };
}
