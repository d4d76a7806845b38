// Modal dialogs built on <dialog>: focus trapping, Escape and the backdrop come for free.

import { errorText, t } from '../i18n.js';
import { followTextDirection, h, iconButton } from '../util/dom.js';

/**
 * Opens a modal with a title and body. Returns { dialog, close }.
 * The dialog is removed from the DOM when closed.
 */
export function openDialog({ title, body, testid, className = '', onClose }) {
  const heading = h('h2', { class: 'dialog-title', dir: 'auto', id: `dlg-${Math.random().toString(36).slice(2)}` }, title);
  const dialog = h('dialog', { class: `dialog ${className}`.trim(), 'aria-labelledby': heading.id, 'data-testid': testid },
    h('header', { class: 'dialog-header' }, heading, iconButton('close', t('action.close'), () => close())),
    h('div', { class: 'dialog-body' }, body));
  const close = () => dialog.close();
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose?.();
  });
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) close();   // click on the backdrop
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** A labelled form field with an inline error slot. */
export function field({ label, name, type = 'text', value = '', autocomplete, placeholder, maxlength, testid }) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  const error = h('p', { class: 'field-error', id: `${id}-err`, 'data-testid': `error-${name}`, 'aria-live': 'polite' });
  const input = h('input', {
    id, name, type, value, autocomplete, placeholder, maxlength,
    'aria-describedby': error.id, 'data-testid': testid || `input-${name}`,
  });
  if (type !== 'password') followTextDirection(input);
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), input, error);
  return {
    wrap, input,
    setError(message) {
      error.textContent = message || '';
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/** Shows an ApiError inline on the matching field, or in the general error slot. */
export function showApiError(err, fields, general) {
  for (const f of Object.values(fields)) f.setError('');
  general.textContent = '';
  const target = err.field && fields[err.field];
  if (target) {
    target.setError(errorText(err));
    target.input.focus();
  } else {
    general.textContent = errorText(err);
  }
}
