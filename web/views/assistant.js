// The writing assistant in the composer (docs/api.md, /assist): a ✨ button opens a panel above
// the composer that checks the draft (spelling and grammar edits, also shown as wavy underlines
// under the words; putting the caret on one opens a small bar to accept a fix) and, when the
// server has a language model, offers rewrites (rephrase, shorter, more polite, translate).
// Accepting replaces text through the browser's editing commands, so Ctrl+Z undoes it. Esc
// closes. Optional "check as I type" asks the offline checker only, after a pause in typing.
// The draft goes to the server only when the user asks (or turned on checking as they type);
// it is never sent as a message by this module.

import { api } from '../api.js';
import { errorText, t } from '../i18n.js';
import { h } from '../util/dom.js';
import { byteToIndex } from '../util/text.js';

const CHECKS = ['spelling', 'grammar'];
const REWRITES = ['rephrase', 'shorter', 'more_polite'];
const TYPE_PAUSE_MS = 800;
const AS_YOU_TYPE_KEY = 'chat.assist.as_you_type';

let offerPromise = null;

/** What the server offers, asked once per page. A failure means "nothing". */
function offer() {
  offerPromise ??= api.assistOffer().catch(() => ({ kinds: [] }));
  return offerPromise;
}

/**
 * Replaces `start..end` of the textarea with `text` as if typed, so the browser's undo (Ctrl+Z)
 * brings the old text back; falls back to setRangeText where editing commands are missing.
 */
function replaceRange(input, start, end, text) {
  input.focus();
  input.setSelectionRange(start, end);
  const done = document.execCommand && document.execCommand('insertText', false, text);
  if (!done) {
    input.setRangeText(text, start, end, 'end');
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }
}

/** The composer tool (see views/composer.js): the ✨ button, its panel and the underlines. */
export function assistantTool(handle) {
  const { input, field, tray, roomId } = handle;
  let checked = null;      // { draft, fixes: [{ start, end, from, label, options: [text] }] } in UTF-16 indexes
  let rewrites = null;     // { draft, items: [{ kind, label, text }] }
  let typingTimer = null;
  let busy = 0;
  let serverOffer = { kinds: [] };

  const button = h('button', {
    type: 'button', class: 'icon-btn assist-btn', hidden: true, 'aria-label': t('assist.button'), title: t('assist.button'),
    'aria-expanded': 'false', 'aria-haspopup': 'dialog', 'data-testid': 'assist-button', onclick: () => (panel.hidden ? open() : close()),
  }, h('span', { 'aria-hidden': 'true' }, '✨'));
  const marks = h('div', { class: 'assist-marks', dir: 'auto', 'aria-hidden': 'true', 'data-testid': 'assist-marks' });
  const status = h('p', { class: 'assist-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'assist-status' });
  const issues = h('ul', { class: 'assist-list', 'data-testid': 'assist-issues' });
  const rewriteBox = h('div', { class: 'assist-rewrites', hidden: true, 'data-testid': 'assist-rewrites' });
  const asYouType = h('input', { type: 'checkbox', 'data-testid': 'assist-as-you-type', checked: localStorage.getItem(AS_YOU_TYPE_KEY) === '1' });
  const panel = h('section', { class: 'assist-panel', hidden: true, role: 'dialog', 'aria-label': t('assist.title'), 'data-testid': 'assist-panel' },
    h('header', { class: 'assist-head' },
      h('h2', { class: 'assist-title' }, t('assist.title')),
      h('button', { type: 'button', class: 'icon-btn assist-close', 'aria-label': t('assist.close'), title: t('assist.close'), onclick: () => close(), 'data-testid': 'assist-close' }, '×')),
    status, issues, rewriteBox,
    h('label', { class: 'assist-option' }, asYouType, ' ', t('assist.as_you_type')));
  const bar = h('div', { class: 'assist-bar', hidden: true, role: 'group', 'data-testid': 'assist-popover' });
  field.prepend(marks);
  tray.append(bar, panel);

  offer().then((o) => {
    serverOffer = o;
    button.hidden = !(o.kinds || []).length;
    button.dataset.offer = button.hidden ? 'none' : 'ready';
    if (!button.hidden) buildRewrites();
  });

  /** Offered kinds among `kinds`. */
  const offered = (kinds) => kinds.filter((k) => serverOffer.kinds.includes(k));

  function setStatus(text) {
    status.textContent = text;
  }

  async function ask(kinds, extra = {}) {
    const draft = input.value;
    busy += 1;
    try {
      return { draft, answer: await api.assist({ draft, kinds, ...(roomId ? { room_id: roomId } : {}), ...extra }) };
    } finally {
      busy -= 1;
    }
  }

  // --- spelling and grammar ------------------------------------------------------------------

  /** Asks for checks of the current draft and shows them; `quiet` (as you type) skips the status. */
  async function check(quiet = false) {
    const kinds = offered(CHECKS);
    if (!kinds.length || !input.value.trim()) { showChecks(null); if (!quiet) setStatus(t('assist.empty')); return; }
    if (!quiet) setStatus(t('assist.checking'));
    let result;
    try {
      result = await ask(kinds);
    } catch (err) {
      if (!quiet) setStatus(errorText(err));
      return;
    }
    if (!input.isConnected || input.value !== result.draft) return; // typed on meanwhile: stale
    showChecks(toFixes(result.draft, result.answer.suggestions));
    if (!quiet) setStatus(checked.fixes.length ? t('assist.issues', { n: checked.fixes.length }) : t('assist.no_issues'));
  }

  /** Edit suggestions grouped by the words they change, in UTF-16 indexes. */
  function toFixes(draft, suggestions) {
    const byRange = new Map();
    for (const s of suggestions) {
      if (!s.edits || s.edits.length !== 1) continue;
      const e = s.edits[0];
      const start = byteToIndex(draft, e.start);
      const end = byteToIndex(draft, e.end);
      const key = `${start}:${end}`;
      if (!byRange.has(key)) byRange.set(key, { start, end, from: draft.slice(start, end), label: s.label, kind: s.kind, options: [] });
      const fix = byRange.get(key);
      if (!fix.options.includes(e.replacement)) fix.options.push(e.replacement);
    }
    return { draft, fixes: [...byRange.values()].sort((a, b) => a.start - b.start) };
  }

  function showChecks(result) {
    checked = result;
    renderMarks();
    renderIssues();
    updateBar();
  }

  /** The underlines: a copy of the text behind the (transparent) textarea, flagged words marked. */
  function renderMarks() {
    marks.replaceChildren();
    if (!checked || checked.draft !== input.value) return;
    let at = 0;
    for (const fix of checked.fixes) {
      marks.append(checked.draft.slice(at, fix.start), h('mark', { class: `assist-mark ${fix.kind}` }, checked.draft.slice(fix.start, fix.end)));
      at = fix.end;
    }
    marks.append(checked.draft.slice(at), '\u200b');
    marks.scrollTop = input.scrollTop;
  }

  function optionButton(fix, option) {
    return h('button', {
      type: 'button', class: 'btn assist-fix', 'data-testid': 'assist-fix', 'aria-label': t('assist.replace_with', { from: fix.from, to: option || '∅' }),
      onclick: () => accept(fix, option),
    }, option || t('assist.remove'));
  }

  function renderIssues() {
    issues.replaceChildren();
    if (!checked) return;
    for (const fix of checked.fixes) {
      issues.append(h('li', { class: 'assist-issue' },
        h('span', { class: 'assist-from', dir: 'auto' }, fix.from.trim() || '␣'),
        h('span', { class: 'assist-label', dir: 'auto' }, fix.label),
        h('span', { class: 'assist-options' }, fix.options.map((o) => optionButton(fix, o)))));
    }
  }

  /** The small bar above the composer when the caret is on an underlined word. */
  function updateBar() {
    const caret = input.selectionStart;
    const fix = checked && checked.draft === input.value && input.selectionStart === input.selectionEnd
      ? checked.fixes.find((f) => caret >= f.start && caret <= f.end)
      : null;
    bar.hidden = !fix || !panel.hidden;
    if (bar.hidden) { bar.replaceChildren(); return; }
    bar.setAttribute('aria-label', t('assist.suggestions_for', { word: fix.from }));
    bar.replaceChildren(
      h('span', { class: 'assist-label', dir: 'auto' }, fix.label),
      ...fix.options.map((o) => optionButton(fix, o)),
      h('button', { type: 'button', class: 'btn', 'data-testid': 'assist-ignore', onclick: () => ignore(fix) }, t('assist.ignore')));
  }

  function accept(fix, option) {
    const before = checked;
    if (!before || before.draft !== input.value) return;
    replaceRange(input, fix.start, fix.end, option); // its input event drops `checked`
    // The other fixes are still valid once shifted by the change in length.
    const delta = option.length - (fix.end - fix.start);
    const rest = before.fixes.filter((f) => f !== fix && (f.end <= fix.start || f.start >= fix.end))
      .map((f) => (f.start >= fix.end ? { ...f, start: f.start + delta, end: f.end + delta } : f));
    showChecks({ draft: input.value, fixes: rest });
    setStatus(t('assist.applied'));
    input.focus();
  }

  function ignore(fix) {
    showChecks({ draft: checked.draft, fixes: checked.fixes.filter((f) => f !== fix) });
    input.focus();
  }

  // --- rewrites (language model) ---------------------------------------------------------------

  const context = h('input', { type: 'checkbox', 'data-testid': 'assist-context' });
  const language = h('select', { class: 'assist-language', 'aria-label': t('assist.translate_to'), 'data-testid': 'assist-language' });
  const results = h('ul', { class: 'assist-list', 'data-testid': 'assist-results' });

  function buildRewrites() {
    const kinds = offered([...REWRITES, 'translate']);
    if (!kinds.length) return;
    const buttons = offered(REWRITES).map((kind) => h('button', {
      type: 'button', class: 'btn', 'data-testid': `assist-${kind}`, onclick: () => rewrite(kind),
    }, t(`assist.kind.${kind}`)));
    const translate = [];
    if (kinds.includes('translate') && (serverOffer.translate_to || []).length) {
      const names = new Intl.DisplayNames([document.documentElement.lang || 'en'], { type: 'language' });
      language.replaceChildren(...serverOffer.translate_to.map((code) => h('option', { value: code }, names.of(code) || code)));
      translate.push(language, h('button', { type: 'button', class: 'btn', 'data-testid': 'assist-translate', onclick: () => rewrite('translate') }, t('assist.kind.translate')));
    }
    rewriteBox.hidden = false;
    rewriteBox.replaceChildren(
      h('p', { class: 'assist-note' }, t('assist.llm_note')),
      h('div', { class: 'assist-actions' }, ...buttons, ...translate),
      h('label', { class: 'assist-option' }, context, ' ', t('assist.context')),
      results);
  }

  async function rewrite(kind) {
    if (!input.value.trim()) { setStatus(t('assist.empty')); return; }
    setStatus(t('assist.rewriting'));
    const extra = { include_context: context.checked && !!roomId };
    if (kind === 'translate') extra.translate_to = language.value;
    let result;
    try {
      result = await ask([kind], extra);
    } catch (err) {
      setStatus(errorText(err));
      return;
    }
    if (!input.isConnected || input.value !== result.draft) return;
    const items = result.answer.suggestions.filter((s) => typeof s.text === 'string');
    rewrites = { draft: result.draft, items };
    results.replaceChildren(...items.map((s) => h('li', { class: 'assist-rewrite' },
      h('span', { class: 'assist-label' }, s.label),
      // Model output is text: shown with textContent, and only ever put into the draft.
      h('p', { class: 'assist-text', dir: 'auto', 'data-testid': 'assist-result' }, s.text),
      h('button', { type: 'button', class: 'btn primary', 'data-testid': 'assist-use', onclick: () => useRewrite(s.text) }, t('assist.use')))));
    setStatus(items.length ? '' : t('assist.no_rewrite'));
  }

  function useRewrite(text) {
    replaceRange(input, 0, input.value.length, text);
    rewrites = null;
    results.replaceChildren();
    close();
  }

  // --- opening, closing, typing ----------------------------------------------------------------

  function open() {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    bar.hidden = true;
    check();
    panel.querySelector('button, input, select')?.focus({ preventScroll: true });
  }

  function close() {
    if (panel.hidden) return false;
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    setStatus('');
    input.focus();
    updateBar();
    return true;
  }

  function closeBar() {
    if (bar.hidden) return false;
    bar.hidden = true;
    return true;
  }

  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
  });
  bar.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeBar(); input.focus(); }
  });
  // Registered before the composer's own handler: Esc closes the assistant first.
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && (close() || closeBar())) { e.preventDefault(); e.stopImmediatePropagation(); }
  });
  input.addEventListener('input', () => {
    if (checked && checked.draft !== input.value) showChecks(null);
    clearTimeout(typingTimer);
    if (asYouType.checked && !button.hidden) typingTimer = setTimeout(() => { if (!busy) check(true); }, TYPE_PAUSE_MS);
  });
  input.addEventListener('scroll', () => { marks.scrollTop = input.scrollTop; });
  for (const type of ['click', 'keyup', 'select']) input.addEventListener(type, updateBar);
  asYouType.addEventListener('change', () => {
    localStorage.setItem(AS_YOU_TYPE_KEY, asYouType.checked ? '1' : '0');
    if (asYouType.checked) check(true);
  });

  return button;
}
