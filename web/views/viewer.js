// Full-size image viewer.

import { t } from '../i18n.js';
import { h } from '../util/dom.js';
import { openDialog } from './dialog.js';

export function openViewer(url, caption) {
  const img = h('img', { src: url, alt: caption || t('message.photo'), class: 'viewer-img', 'data-testid': 'viewer-image' });
  openDialog({ title: caption || t('message.photo'), body: img, testid: 'viewer', className: 'viewer' });
}
