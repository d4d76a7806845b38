// Full-size image viewer.

import { h } from '../util/dom.js';
import { openDialog } from './dialog.js';

export function openViewer(url, caption) {
  const img = h('img', { src: url, alt: caption || 'Photo', class: 'viewer-img', 'data-testid': 'viewer-image' });
  openDialog({ title: caption || 'Photo', body: img, testid: 'viewer', className: 'viewer' });
}
