// Offsets between the server's text positions (UTF-8 bytes) and the DOM's (UTF-16 code units).

/** UTF-8 byte offset → UTF-16 index into `text` (the server speaks bytes, the DOM code units). */
export function byteToIndex(text, byte) {
  let bytes = 0;
  let index = 0;
  for (const ch of text) {
    if (bytes >= byte) break;
    const cp = ch.codePointAt(0);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    index += ch.length;
  }
  return index;
}
