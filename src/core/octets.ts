// Text that holds octets which are not UTF-8 (a TXT string off the wire, a zone file written in Latin-1): valid UTF-8 is
// decoded as such and any other octet becomes the lone surrogate U+DC00 + octet (U+DC80–U+DCFF, PEP 383's
// "surrogateescape"), so that text → octets stays one-to-one and such a char can never be mistaken for text (a UTF-8
// decoding never yields a lone surrogate). Pure.

/**
 * Length of the valid UTF-8 sequence at `i` of `buf` (before `end`): 1–4, or 0 when the octet there does not start
 * one (a continuation octet, C0/C1/F5–FF, a sequence cut short, overlong, a surrogate, past U+10FFFF) — the
 * well-formed sequences of Unicode table 3-7, which is what a UTF-8 decoder (and isUtf8) accepts.
 */
export function utf8Length(buf: Buffer, i: number, end: number): number {
  const b = buf[i];
  if (b < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > end) return 0;
  const c = buf[i + 1];
  if (c < lo || c > hi) return 0;
  for (let k = 2; k < n; k++) if ((buf[i + k] & 0xc0) !== 0x80) return 0;
  return n;
}

/**
 * The strings' octets (`bytes` up to `total`; string k ends at ends[k]) decoded as one text — valid UTF-8 as such,
 * any other octet as U+DC00 + octet — and cut back into as many strings as there are: a character goes to the string
 * its first octet is in (one split across a boundary stays whole in the first string).
 */
export function decodeJoined(bytes: Buffer, total: number, ends: number[]): string[] {
  const out: string[] = [];
  let piece = '';
  let run = 0; // start of the valid UTF-8 not yet added to `piece`
  let k = 0; // the string being filled
  for (let i = 0; i < total; ) {
    // A character that starts at or past the end of string k belongs to a later string.
    while (k < ends.length - 1 && i >= ends[k]) {
      out.push(piece + bytes.toString('utf8', run, i));
      piece = '';
      run = i;
      k++;
    }
    const n = utf8Length(bytes, i, total);
    if (n > 0) i += n;
    else {
      piece += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + bytes[i]);
      run = ++i;
    }
  }
  out.push(piece + bytes.toString('utf8', run, total));
  // Strings left with no character of their own (empty, or only the tail of one begun in the string before).
  while (out.length < ends.length) out.push('');
  return out;
}

/** `buf` as text: UTF-8, any octet that is not part of a valid sequence as U+DC00 + octet (see decodeJoined). */
export function decodeOctets(buf: Buffer): string {
  return decodeJoined(buf, buf.length, [buf.length])[0];
}

/** An octet decodeOctets could not read as UTF-8 (U+DC80–U+DCFF). */
export const ESCAPED_OCTET = /[\udc80-\udcff]/;

/** The octets of a text: UTF-8, except that a lone U+DC00 + octet (see decodeOctets) is that octet. */
export function octetsOf(text: string): Buffer {
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc80 || c > 0xdcff) continue;
    // A lone low surrogate: a high one before it would make it half of a character (not an escaped octet).
    const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
    if (prev >= 0xd800 && prev <= 0xdbff) continue;
    parts.push(Buffer.from(text.slice(run, i), 'utf8'), Buffer.of(c - 0xdc00));
    run = i + 1;
  }
  parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}
