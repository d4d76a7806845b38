// Images for tests, drawn by the browser, and ways to hand them to the page as a user would
// (paste, drag and drop).

/** A PNG drawn on a canvas: a gradient (small file), or noise (`noisy`, a large file). */
export async function makePng(page, { width = 320, height = 240, noisy = false } = {}) {
  const dataUrl = await page.evaluate(({ width, height, noisy }) => {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const g = canvas.getContext('2d');
    if (noisy) {
      const img = g.createImageData(width, height);
      for (let i = 0; i < img.data.length; i += 1) img.data[i] = (i % 4 === 3) ? 255 : Math.floor(Math.random() * 256);
      g.putImageData(img, 0, 0);
    } else {
      const grad = g.createLinearGradient(0, 0, width, height);
      grad.addColorStop(0, '#00a884');
      grad.addColorStop(1, '#53bdeb');
      g.fillStyle = grad;
      g.fillRect(0, 0, width, height);
      g.fillStyle = '#fff';
      g.beginPath();
      g.arc(width / 2, height / 2, Math.min(width, height) / 4, 0, Math.PI * 2);
      g.fill();
    }
    return canvas.toDataURL('image/png');
  }, { width, height, noisy });
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

/** A DataTransfer in the page holding one file. */
function transferHandle(page, bytes, name, type) {
  return page.evaluateHandle(({ base64, name, type }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name, { type }));
    return dt;
  }, { base64: bytes.toString('base64'), name, type });
}

/** Pastes an image into an element (as Ctrl+V with an image on the clipboard would). */
export async function pasteImage(locator, bytes, name = 'clipboard.png') {
  const dt = await transferHandle(locator.page(), bytes, name, 'image/png');
  await locator.evaluate((el, data) => {
    el.focus();
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, dt);
}

/** Drags an image file onto an element and drops it there. */
export async function dropImage(locator, bytes, name = 'dropped.png') {
  const dt = await transferHandle(locator.page(), bytes, name, 'image/png');
  for (const type of ['dragenter', 'dragover', 'drop']) await locator.dispatchEvent(type, { dataTransfer: dt });
}
