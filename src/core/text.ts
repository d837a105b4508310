// Invisible characters in text the product shows or hands on. Record text is attacker-controlled: a bidi override or a
// zero-width character in it must not make one record look like another — on a page, in a terminal, in an export.

/**
 * Characters that show nothing themselves but change how the text around them shows: bidirectional overrides,
 * embeddings and isolates (U+202A–U+202E, U+2066–U+2069, marks U+200E/U+200F/U+061C), zero-width characters
 * (U+200B–U+200D, U+2060–U+2064, U+FEFF), the soft hyphen, line/paragraph separators, control characters other than
 * tab and newline, interlinear annotation marks and Unicode tag characters. A record holding one (U+202E in an SPF
 * record reverses what follows it) must not look like a different record on a page.
 */
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]/gu;

/**
 * Text for a log line or a terminal: control characters as `\xNN` (a line break too, unless `keepLineBreaks`), then the
 * other invisible characters as showInvisible writes them. One escape for every log writer (CLI, web, adapters).
 */
export function escapeControls(s: string, keepLineBreaks = false): string {
  // eslint-disable-next-line no-control-regex
  const controls = keepLineBreaks ? /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g : /[\x00-\x1f\x7f-\x9f]/g;
  return showInvisible(s.replace(controls, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Text with every INVISIBLE character written out as an escape: U+202E → `\u202E` (beyond U+FFFF: `\u{E0001}`). */
export function showInvisible(s: string): string {
  return s.replace(INVISIBLE, (ch) => {
    const cp = ch.codePointAt(0)!;
    const hex = cp.toString(16).toUpperCase();
    return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
  });
}

/**
 * JSON text of `value` (as JSON.stringify) with every INVISIBLE character inside its strings written as a `\uXXXX`
 * escape (a surrogate pair of escapes beyond U+FFFF): the same JSON value for any parser, and nothing in it can
 * reorder or hide text where the JSON is shown (a terminal, an editor, a log). JSON's own syntax is ASCII, so these
 * characters only ever occur inside strings.
 */
export function jsonText(value: unknown, space?: number): string {
  const s = JSON.stringify(value, null, space);
  if (s === undefined) return s as unknown as string;
  return s.replace(INVISIBLE, (ch) => {
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

/**
 * Order of two strings by UTF-16 code units — the same on every machine. (`localeCompare` follows the process's locale:
 * under da_DK "aab.example" sorts after "zz.example", so two servers would print the same JSON in different orders.)
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An English list: "a", "a and b", "a, b and c" ('' for none). */
export function listed(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A record's text in a message: JSON-quoted (escapes included), cut to 57 characters and "..." when over 60. */
export function quoteShort(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
