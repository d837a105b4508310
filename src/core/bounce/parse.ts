// Read a bounce as a customer pastes it: a full DSN, an Exim or Postfix log line, or a bare SMTP reply
// (multi-line `550-` continuations, quoted-printable, HTML). Pure; never throws; every regex is linear.
import { checkDomain } from '../domain.js';
import { isIpAddress, isPrivateIp } from '../ip.js';
import { BOUNCE_TABLE, type BounceTable } from './codes.js';

export const MAX_BOUNCE_BYTES = 256 * 1024;
/**
 * Of an accepted input (≤ MAX_BOUNCE_BYTES; the web form's body limit is 200 KB, the CLI reads at most 2 × MAX_BOUNCE_BYTES
 * and is refused above MAX_BOUNCE_BYTES), the parser reads only the first 64 KiB of decoded text, cut at a line end.
 * Real bounces are a few KB; the reply, the DSN fields and the returned message's headers come first, so 64 KiB leaves
 * room for a long Received: chain or an Exchange NDR's original headers. The rest (the returned body) is ignored.
 */
export const MAX_SCAN_CHARS = 64 * 1024;

export type BounceFormat = 'dsn' | 'postfix' | 'exim' | 'smtp';

export interface ParsedBounce {
  /** Receiver id from the table's fingerprints ("gmail", "microsoft", "yahoo", "mailchannels", …, "generic"). */
  receiver: string;
  /** SMTP reply code, e.g. "550"; null when only an enhanced code was found (e.g. `dsn=5.7.26`). */
  replyCode: string | null;
  /** Enhanced status code, e.g. "5.7.26"; null when the receiver sent none (e.g. BT's bare 554). */
  enhancedCode: string | null;
  /** The receiver's reply as one line: "550 5.7.26 This message does not have …" (continuations joined). */
  text: string;
  /**
   * The reply's words split where the receiver itself started a new line (a blank continuation, an indented list item,
   * a result line such as "DKIM = did not pass"); lines only wrapped by a mail program are joined. Phrases are matched
   * within one segment, so the end of one list item and the start of the next never read as one sentence.
   */
  segments: string[];
  /** The sender's domain (validated, lower-case A-labels), when the input names it. */
  domain: string | null;
  /** The sending IP (v4 or v6) when the input names it; never the receiver's own IP. */
  ip: string | null;
  /** The recipient address, when present and valid. */
  recipient: string | null;
  /** The receiving host (Remote-MTA, Postfix relay=, Exim H=), when present. */
  remoteMta: string | null;
  format: BounceFormat;
  /**
   * The enhanced codes of the bounce's other replies (several recipients refused for different reasons), when there
   * are any: the one explained is the first about sender authentication or policy (x.7.x), else the first.
   */
  otherCodes?: string[];
}

export type ParseResult = ParsedBounce | { error: string };

export function isParseError(r: ParseResult): r is { error: string } {
  return 'error' in r;
}

// ---------------------------------------------------------------- decoding

function looksBinary(s: string): boolean {
  if (s.includes('\u0000')) return true;
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0x7f || c === 0xfffd) bad++;
  }
  return bad > 8 && bad / s.length > 0.02;
}

/**
 * A line whose trailing "=" is no soft line break: a DKIM/ARC signature's tag list (b=, bh=) or a run of base64 — its
 * "=" is padding (an RSA-2048 signature always ends in "=="). Joining it to the next line would swallow that header.
 */
const NOT_SOFT_BREAK = /(?:^|[;\s])bh?=[A-Za-z0-9+/]|^[ \t]*[A-Za-z0-9+/]{16,}={1,2}[ \t]*$/;

/**
 * ANSI escape sequences: CSI ("ESC [ 1;31m", "ESC [K"), OSC ("ESC ] 8;;url BEL", a terminal hyperlink) and character-set
 * selections ("ESC ( B", tput's sgr0). Each part bounded, so linear on any input.
 */
const ANSI_RE = /\x1b\[[0-?]{0,64}[ -\/]{0,16}[@-~]|\x1b\][^\x07\x1b]{0,2048}(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]/g;

function stripAnsi(s: string): string {
  return s.includes('\x1b') ? s.replace(ANSI_RE, '') : s;
}

/** Decode quoted-printable text: soft line breaks (but not a signature's padding, NOT_SOFT_BREAK) and =XX bytes as UTF-8. */
function decodeQp(s: string): string {
  const lines = s.split('\n');
  let out = '';
  for (const [i, line] of lines.entries()) {
    const soft = line.endsWith('=') && i < lines.length - 1 && !NOT_SOFT_BREAK.test(line);
    out += soft ? line.slice(0, -1) : i < lines.length - 1 ? line + '\n' : line;
  }
  return out.replace(/(?:=[0-9A-Fa-f]{2})+/g, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'));
}

const CTE_HEADER = /^content-transfer-encoding:/im;
const CTE_QP = /^content-transfer-encoding:[ \t]*quoted-printable[ \t]*$/im;

/** What a MIME walker's body callback decodes: the body's lines up to `end` (exclusive), replaced by `text`. */
type DecodedBody = { end: number; text: string } | null;

/**
 * Walk a MIME paste's header blocks (folded continuations joined; a boundary line starts a new block). At each blank
 * line, `body` is given the block just ended, the lines and the index of the body's first line; it returns the decoded
 * body and where it ends, or null to leave the body as it is (read on as lines). Every other line is kept. Linear when
 * `body` is.
 */
function walkMimeBodies(s: string, body: (block: string, lines: string[], i: number) => DecodedBody): string {
  const lines = s.split('\n');
  const out: string[] = [];
  let head: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      // The end of a header block: the body follows.
      const block = head.join('\n');
      head = [];
      out.push(line);
      i++;
      const decoded = body(block, lines, i);
      if (!decoded) continue;
      out.push(...decoded.text.split('\n'));
      i = decoded.end;
      continue;
    }
    // Header lines (and their folded continuations) since the last blank line or boundary.
    if (line.startsWith('--')) head = [];
    else if (/^[ \t]/.test(line) && head.length) head[head.length - 1] += ' ' + line.trim();
    else head.push(line);
    out.push(line);
    i++;
  }
  return out.join('\n');
}

/**
 * Quoted-printable text. A paste with MIME headers (a bounce saved as its raw source): only the bodies whose header block
 * says `Content-Transfer-Encoding: quoted-printable`, each up to its part's boundary — a returned message's headers
 * (a DKIM signature's "=" padding, a `client-ip=203.…`) are never decoded. A paste without any: decoded when it has a
 * soft line break or an "=3D" (an encoded "="), the lines of NOT_SOFT_BREAK not counted. Linear.
 */
function decodeQuotedPrintable(s: string): string {
  if (!CTE_HEADER.test(s)) {
    const softBreak = s.split('\n').some((l, i, all) => i < all.length - 1 && l.endsWith('=') && !NOT_SOFT_BREAK.test(l));
    return softBreak || /=3D/i.test(s) ? decodeQp(s) : s;
  }
  if (!CTE_QP.test(s)) return s;
  // The boundaries the paste declares: a quoted-printable body ends at the next one ("--b" or "--b--").
  const boundaries = new Set<string>();
  for (const m of s.matchAll(/\bboundary=(?:"([^"\n]{1,200})"|([^\s;"]{1,200}))/gi)) boundaries.add(m[1] ?? m[2]);
  const isBoundary = (line: string) => {
    if (!line.startsWith('--')) return false;
    const t = line.trimEnd();
    const b = t.endsWith('--') && t.length > 4 ? t.slice(2, -2) : t.slice(2);
    return boundaries.has(b) || boundaries.has(t.slice(2));
  };
  return walkMimeBodies(s, (block, lines, i) => {
    if (!CTE_QP.test(block)) return null;
    let j = i;
    while (j < lines.length && !isBoundary(lines[j])) j++;
    return { end: j, text: decodeQp(lines.slice(i, j).join('\n')) };
  });
}

/**
 * The text parts of a MIME message sent in base64 (a bounce saved as its raw source: the human-readable part of a
 * multipart report often is), decoded in place in their charset (UTF-8/ASCII, else Latin-1 for the ISO-8859/Windows
 * ones). A part is decoded when its header block says `Content-Transfer-Encoding: base64` and its type is text/* or
 * message/* (or none), its body is base64 lines only, and the result is text; anything else stays as it was. Linear.
 */
function decodeBase64Parts(s: string): string {
  if (!/^content-transfer-encoding:[ \t]*base64[ \t]*$/im.test(s)) return s;
  return walkMimeBodies(s, (block, lines, i) => {
    if (!/^content-transfer-encoding:[ \t]*base64[ \t]*$/im.test(block)) return null;
    const type = /^content-type:[ \t]*([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)/im.exec(block)?.[1].toLowerCase();
    if (type && !/^(?:text|message)\//.test(type)) return null;
    let j = i;
    while (j < lines.length && /^[A-Za-z0-9+/]+={0,2}[ \t]*$/.test(lines[j])) j++;
    if (j === i) return null;
    const bytes = Buffer.from(lines.slice(i, j).join(''), 'base64');
    const charset = /\bcharset=["']?([a-z0-9_.:-]+)/i.exec(block)?.[1].toLowerCase() ?? 'utf-8';
    const text = (/^(?:iso-?8859|windows-125|cp125|latin)/.test(charset) ? bytes.toString('latin1') : bytes.toString('utf8')).replace(/\r\n?/g, '\n');
    return looksBinary(text) ? null : { end: j, text };
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—' };

function stripHtml(s: string): string {
  if (!/<\/?(?:html|body|head|div|p|br|span|table|tr|td|pre|font|b|i|strong|a|tt|code|blockquote)\b[^<>]*>/i.test(s) && !/&(?:lt|gt|amp|nbsp|quot|#\d{1,7});/i.test(s)) return s;
  // Drop <style>/<script>/<head> blocks with indexOf (a lazy regex here would be quadratic on unclosed tags).
  let out = '';
  let pos = 0;
  const lower = s.toLowerCase();
  const openRe = /<(style|script|head)\b/g;
  for (;;) {
    openRe.lastIndex = pos;
    const open = openRe.exec(lower);
    if (!open) {
      out += s.slice(pos);
      break;
    }
    out += s.slice(pos, open.index);
    const close = lower.indexOf(`</${open[1]}`, open.index);
    if (close < 0) break;
    const gt = lower.indexOf('>', close);
    pos = gt < 0 ? s.length : gt + 1;
  }
  return out
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h\d|\/pre|\/blockquote|p|div|tr|li)\b[^<>]*>/gi, '\n')
    .replace(/<\/?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?\/?>/g, '')
    .replace(/<!--[^<>]*-->/g, '')
    .replace(/&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (m, e: string) => {
      if (e[0] === '#') {
        const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\u00a0/g, ' ');
}

// ---------------------------------------------------------------- headers

interface Fields {
  get(name: string): string[];
  /** Values of the fields after the paste's leading header block (the bounce's own headers, when pasted). */
  afterHead(name: string): string[];
  /** Received: fields of header blocks only — not lines in a message body (a returned message's text, a quoted mail). */
  receivedHeaders(): string[];
}

const HEADER_RE = /^([A-Za-z][A-Za-z0-9-]{0,60}):(?:[ \t]+(.*)|)$/;
/** Fields of a message's header (not a DSN's or a MIME part's): a blank line after a block of them starts its body. */
const MESSAGE_FIELDS = new Set(['from', 'to', 'cc', 'subject', 'date', 'message-id', 'received', 'return-path', 'sender', 'reply-to', 'mime-version']);
/** Where a new part begins after a body: a MIME boundary or a bounce's "------ This is a copy of the message" line, an NDR's "Original message headers:". */
const PART_START = /^[ \t]*(?:-{2,}|(?:original )?message headers\b|en-t[êe]tes du message d'origine|urspr[üu]ngliche nachrichtenkopfzeilen|encabezados del mensaje original)/i;

/** RFC 5322-style fields with folding. Diagnostic-Code also takes unindented lines until the next field or a blank line. */
function parseFields(lines: string[]): Fields {
  const map = new Map<string, { value: string; head: boolean; body: boolean }[]>();
  let current: { name: string; value: string; head: boolean; body: boolean } | null = null;
  // The leading header block ends at the first line that is neither a field nor a continuation (leading blank lines skipped).
  let inHead = true;
  let seen = false;
  // In a message body (after a block with message fields and a blank line), until the next part starts.
  let inBody = false;
  let blockIsMessage = false;
  const flush = () => {
    if (!current) return;
    const list = map.get(current.name) ?? [];
    list.push({ value: current.value.trim(), head: current.head, body: current.body });
    map.set(current.name, list);
    current = null;
  };
  for (const line of lines) {
    const m = HEADER_RE.exec(line);
    if (m) {
      flush();
      current = { name: m[1].toLowerCase(), value: m[2] ?? '', head: inHead, body: inBody };
      if (MESSAGE_FIELDS.has(current.name)) blockIsMessage = true;
      seen = true;
    } else if (current && /^[ \t]/.test(line) && line.trim()) {
      current.value += '\n' + line;
    } else if (current && current.name === 'diagnostic-code' && line.trim()) {
      current.value += '\n' + line;
    } else {
      flush();
      if (seen || line.trim()) inHead = false;
      if (!line.trim() && blockIsMessage) inBody = true;
      else if (PART_START.test(line)) inBody = false;
      blockIsMessage = false;
    }
  }
  flush();
  return {
    get: (n) => (map.get(n) ?? []).map((f) => f.value),
    afterHead: (n) => (map.get(n) ?? []).filter((f) => !f.head).map((f) => f.value),
    receivedHeaders: () => (map.get('received') ?? []).filter((f) => !f.body).map((f) => f.value),
  };
}

// ---------------------------------------------------------------- small validators

/** Drop leading `lead` and trailing `trail` characters with a loop (a `[…]+$` regex is quadratic on a long run that fails at the end). */
function trimChars(s: string, lead: string, trail: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && lead.includes(s[a])) a++;
  while (b > a && trail.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

function validDomain(s: string | undefined | null): string | null {
  if (!s) return null;
  const r = checkDomain(trimChars(s, '[<("\'', ']>)"\',;:.'));
  return r.ok ? r.domain : null;
}

/**
 * The local part of an address: RFC 5322 atext and dots, and — an internationalised address (RFC 6531, SMTPUTF8:
 * "müller@bücher.example") — letters, combining marks and digits of any script. No other non-ASCII character: no
 * space, control, invisible or bidi one (the address is shown back to the customer).
 */
const LOCAL_PART = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\p{L}\p{M}\p{N}-]+$/u;

/** An address as `local@domain`, its domain through the domain validator (lower-case A-labels); null when it is none. */
function validAddress(s: string | undefined | null): string | null {
  if (!s) return null;
  const a = trimChars(s.trim(), '<[("\'', '>])"\',;:.').replace(/^smtp:/i, '');
  const at = a.lastIndexOf('@');
  if (at < 1 || at > 64) return null;
  const local = a.slice(0, at);
  // At most 64 octets (RFC 5321 §4.5.3.1.1), counted in UTF-8 for an internationalised one (RFC 6531 §3.3).
  if (!LOCAL_PART.test(local) || Buffer.byteLength(local) > 64) return null;
  const d = validDomain(a.slice(at + 1));
  return d ? `${local}@${d}` : null;
}

function validIp(s: string | undefined | null): string | null {
  if (!s) return null;
  const v = s.replace(/^ipv6:/i, '');
  // A dotted quad has no letters to fold; an IPv6 address is compared in lower case.
  return isIpAddress(v) ? v.toLowerCase() : null;
}

const DAEMON = /^(?:mailer-daemon|postmaster|mail-daemon|mdaemon|double-bounce)$/i;

/** Addresses in a header value: "Name <a@b>" or bare "a@b". */
function addressesIn(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/<([^<>\s]{1,320})>|([^\s<>"'(),;:[\]]{1,64}@[^\s<>"'(),;:[\]]{1,255})/g)) {
    const a = validAddress(m[1] ?? m[2]);
    if (a) out.push(a);
  }
  return out;
}

function senderDomainFromAddresses(values: string[], last = false): string | null {
  const list = last ? [...values].reverse() : values;
  for (const v of list) {
    for (const a of addressesIn(v)) {
      const local = a.slice(0, a.lastIndexOf('@'));
      if (DAEMON.test(local)) continue;
      return a.slice(a.lastIndexOf('@') + 1);
    }
  }
  return null;
}

// ---------------------------------------------------------------- the reply

interface Reply {
  replyCode: string | null;
  enhancedCode: string | null;
  text: string;
  segments: string[];
}

/** Marks where a reply-code prefix was (a private-use character, removed from the input first). */
const MARK = '\uE000';
/** A result line of an "Authentication results:" list: "DKIM = did not pass", "SPF [d] with ip: [ip] = did not pass". */
const RESULT_LINE = /^[ \t]*(?:dkim|spf|dmarc|arc)\b[^=\n]{0,300}=[ \t]*\S/i;

/** Cut Postfix's "(in reply to end of DATA command))" with indexOf (a `\s*…$` regex is quadratic); also when wrapping lost the ")". */
function cutInReply(words: string): string {
  const inReply = words.toLowerCase().lastIndexOf('(in reply to ');
  if (inReply >= 0 && /^\(in reply to [^()]{0,200}(?:\)\)?)?$/i.test(words.slice(inReply).trimEnd())) return words.slice(0, inReply).trimEnd();
  return words;
}

/**
 * Split a reply body (its reply-code prefixes replaced by MARK) into segments. A prefixed line starts a new segment when
 * it is empty or indented by two or more spaces after the prefix (Gmail's "550-5.7.26  DKIM = did not pass"), and a
 * result line stands alone; an unprefixed line (wrapped by Postfix, folded in a DSN) continues the current one.
 */
function splitSegments(marked: string): string[] {
  const segments: string[] = [];
  let cur = '';
  const flush = () => {
    const t = cur.replace(/\s+/g, ' ').trim();
    if (t) segments.push(t);
    cur = '';
  };
  for (const raw of marked.split('\n')) {
    const at = raw.indexOf(MARK);
    let content = raw;
    let hard = false;
    if (at >= 0 && /^[ \t>]*$/.test(raw.slice(0, at))) {
      content = raw.slice(at + 1);
      let lead = 0;
      while (lead < content.length && (content[lead] === ' ' || content[lead] === '\t')) lead++;
      hard = lead === content.length || lead >= 2;
    }
    content = content.split(MARK).join(' ');
    const result = RESULT_LINE.test(content);
    if (hard || result) flush();
    cur += ' ' + content;
    if (result) flush();
  }
  flush();
  return segments;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Locate the first SMTP reply in `region`, take it with its continuation lines, join them into one line. */
/** A recipient's address alone on a line (Exim's and Outlook's per-recipient blocks). */
const RECIPIENT_LINE = /^[ \t>]*<?[^\s@<>"]{1,64}@[^\s@<>"]{1,255}>?:?[ \t]*$/;
/** A reply line with an enhanced code, at the start of a line (a bounce's several replies; not a quoted "> 550 …"). */
const REPLY_LINE = /^[ \t]*([45]\d\d)(?:;[ \t]{0,2}|[ \t-]{1,4})([45]\.\d{1,3}\.\d{1,3})(?![\w.])/gm;
/** Where the returned message begins: its replies are not this bounce's. */
const RETURNED_MESSAGE = /^[ \t]*(?:-+ ?(?:This is a copy of the message|Below this line is a copy of the message|Original message ?-+)|Content-Type:[ \t]*(?:message\/rfc822|text\/rfc822-headers)|(?:original )?message headers\b|en-t[êe]tes du message d'origine|urspr[üu]ngliche nachrichtenkopfzeilen|encabezados del mensaje original)/im;

function otherReplyLine(line: string, reply: string, enhanced: string | null): boolean {
  const m = /^[ \t>]*([45]\d\d)(?:;[ \t]{0,2}|[ \t-]{1,4})([45]\.\d{1,3}\.\d{1,3})(?![\w.])/.exec(line);
  return !!m && (m[1] !== reply || (enhanced !== null && m[2] !== enhanced));
}

/**
 * The reply to explain in `region` and the codes of its other replies: the first reply about sender authentication or
 * policy (enhanced code x.7.x) when there are several, else the first (a bounce for several recipients can hold a
 * "no such mailbox" next to the DNS-caused refusal).
 */
function pickReply(region: string): { reply: Reply; others: string[] } | null {
  const first = extractReply(region, false);
  if (!first) return null;
  const codes: { code: string; at: number }[] = [];
  const returned = RETURNED_MESSAGE.exec(region);
  const own = returned ? region.slice(0, returned.index) : region;
  for (const m of own.matchAll(REPLY_LINE)) if (!codes.some((c) => c.code === m[2])) codes.push({ code: m[2], at: m.index });
  if (codes.length < 2) return { reply: first, others: [] };
  const policy = first.enhancedCode?.split('.')[1] === '7' ? null : codes.find((c) => c.code.split('.')[1] === '7');
  const reply = (policy ? extractReply(region.slice(policy.at), false) : null) ?? first;
  return { reply, others: codes.map((c) => c.code).filter((c) => c !== reply.enhancedCode) };
}

function extractReply(region: string, wholeRegion: boolean): Reply | null {
  // 1. reply code + enhanced code ("550-5.7.26", "550 5.7.1", "550\n5.7.1", Microsoft's "550; 5.7.515")
  let m = /(?<![\w.\-/=:])([45]\d\d)(?:;[ \t]{0,2}|[ \t\r\n-]{1,4})([45]\.\d{1,3}\.\d{1,3})(?![\w.])/.exec(region);
  let reply: string | null = null;
  let enhanced: string | null = null;
  let start = -1;
  if (m) {
    reply = m[1];
    enhanced = m[2];
    start = m.index;
  } else {
    // 2. a bare reply code at a line start or after a "said:" / "Reason:" / "smtp;" style lead-in
    m = /(?:^|\n)[ \t>]*([45]\d\d)(?:-|[ \t]+)(?=\S)|(?:said:|reason:|smtp;|error:|response:|reply:|\]:)[ \t]*([45]\d\d)(?:-|[ \t]+)(?=\S)/i.exec(region);
    if (m) {
      reply = m[1] ?? m[2];
      start = m.index + m[0].indexOf(reply);
    }
  }
  if (!reply || start < 0) return null;

  let body = region.slice(start);
  if (!wholeRegion) {
    // Take the paragraph: stop at a blank line, a header-like line, or after the final ("550 ", no dash) line.
    const lines = body.split('\n');
    const kept: string[] = [];
    const finalRe = enhanced ? new RegExp(`^[ \\t>]*${reply};? ${esc(enhanced)}(?![\\w.])`) : new RegExp(`^[ \\t>]*${reply} `);
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) break;
      if (i > 0 && HEADER_RE.test(line)) break;
      // Another recipient's block (its address alone on a line) or another reply (a different code) ends this one.
      if (i > 0 && (RECIPIENT_LINE.test(line) || otherReplyLine(line, reply, enhanced))) break;
      kept.push(line);
      if (i > 0 && finalRe.test(line)) break;
    }
    body = kept.join('\n');
  }
  // Mark every repeated prefix of this reply (the words stay), then split where the receiver began a line of its own.
  const prefix = enhanced
    ? new RegExp(`(^|[\\s>])${reply}(?:;[ \\t]{0,2}|[ \\t\\r\\n-]{1,4})${esc(enhanced)}(?![\\w.])`, 'g')
    : new RegExp(`(^|\\n)[ \\t>]*${reply}(?:-|(?= ))`, 'g');
  const segments = splitSegments(body.replace(prefix, `$1${MARK}`));
  if (segments.length) {
    const last = cutInReply(segments[segments.length - 1]);
    if (last) segments[segments.length - 1] = last;
    else segments.pop();
  }
  const words = segments.join(' ');
  const text = [reply, enhanced, words].filter(Boolean).join(' ');
  return { replyCode: reply, enhancedCode: enhanced, text, segments };
}

// ---------------------------------------------------------------- receiver

function hostMatches(host: string, suffix: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const s = suffix.toLowerCase();
  return h === s || h.endsWith('.' + s);
}

function identifyReceiver(table: BounceTable, text: string, hosts: string[], recipient: string | null): string {
  const lower = text.toLowerCase();
  const rdomain = recipient ? recipient.slice(recipient.lastIndexOf('@') + 1) : null;
  let best = 'generic';
  let bestScore = 0;
  for (const r of table.receivers) {
    if (r.id === 'generic') continue;
    let score = 0;
    if (r.phrases.some((p) => lower.includes(p))) score += 10; // the wording names who rejected it
    if (hosts.some((h) => r.hosts.some((s) => hostMatches(h, s)))) score += 6; // the host we talked to
    if (rdomain && r.recipientDomains.includes(rdomain)) score += 2; // a consumer mailbox domain
    if (score > bestScore) {
      best = r.id;
      bestScore = score;
    }
  }
  return best;
}

// ---------------------------------------------------------------- domain, ip

/** Sender-domain patterns in reply wording, most specific first. Each captures one token. */
const TEXT_DOMAIN_RES: RegExp[] = [
  /not authorized to send from\s+([^\s<>"'()[\],;]{1,255})/i,
  /unauthenticated email from\s+([^\s<>"'()[\],;]{1,255})/i,
  /sending domain\s+\[?([^\s<>"'()[\],;]{1,255})/i,
  /\bspf\s+\[([^\s<>"'()[\],;]{1,255})\]/i,
  /\bdkim\s+\[([^\s<>"'()[\],;]{1,255})\]/i,
  /\bdomain of\s+([^\s<>"'()[\],;]{1,255})/i,
  /\bsender domain\s*(?:[=:]\s*)?\[?([^\s<>"'()[\],;]{1,255})/i,
  /\bspf domain\s*[=:]\s*([^\s<>"'()[\],;]{1,255})/i,
  // Gmail 4.7.28: "from your DKIM domain [shop.example      22]"; Outlook.com's DMARC wording: "on behalf of (shop.example)".
  /\bdkim domain\s+\[([^\s<>"'()[\],;]{1,255})/i,
  /\bon behalf of\s+\(?([^\s<>"'()[\],;]{1,255})/i,
  /<([^<>\s]{1,320})>:?\s+sender address rejected/i,
];

function domainFromText(text: string): string | null {
  for (const re of TEXT_DOMAIN_RES) {
    const m = re.exec(text);
    if (!m) continue;
    const tok = m[1];
    const d = tok.includes('@') ? validDomain(tok.slice(tok.lastIndexOf('@') + 1)) : validDomain(tok);
    if (d) return d;
  }
  return null;
}

const IP_KEYWORD = /(?:from|ip|client|host|address|sender|source)\W{0,6}$/i;

function ipFromText(text: string, exclude: Set<string>): string | null {
  // Bracketed: Gmail "[203.0.113.5]", "[2a04:2180:0:2::77]", "[IPv6:2001:db8::1]", and Gmail's legacy
  // "[203.0.113.5      15]" (the IP, spaces, a number).
  for (const m of text.matchAll(/\[((?:IPv6:)?[0-9A-Fa-f:.]{2,45})(?:[ \t]{1,40}\d{1,5})?\]/g)) {
    const ip = validIp(m[1]);
    if (ip && !exclude.has(ip)) return ip;
  }
  // Labelled: "ip: 203.0.113.5", "client_ip=…", "from 203.0.113.5".
  for (const m of text.matchAll(/(?<![\w.:])((?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w.:])/g)) {
    const ip = validIp(m[1]);
    if (!ip || exclude.has(ip)) continue;
    const before = text.slice(Math.max(0, m.index - 20), m.index);
    if (IP_KEYWORD.test(before)) return ip;
  }
  return null;
}

/** A receiver host name: one of the table's receivers' host suffixes. */
function isReceiverHost(table: BounceTable, host: string): boolean {
  return table.receivers.some((r) => r.hosts.some((h) => hostMatches(host, h)));
}

/**
 * The sending IP from the Received line the receiver wrote when it took the message from the sender: `by` one of the
 * receivers' hosts, `from` a host that is not the receiver's own (Microsoft's internal hops). The IP is the one in the
 * from-part only — in brackets ("from mail.host.example (mail.host.example. [198.51.100.8])") or, as Exchange Online
 * writes it, in parentheses ("from server1.host.example (203.0.113.10) by …outlook.com (10.167.242.10)") — never the
 * by-part's (the receiver's own address), never a private address, never the receiver's IPs.
 */
function ipFromReceived(received: string[], table: BounceTable, exclude: Set<string>): string | null {
  for (const rcv of received) {
    const byAt = rcv.search(/\bby\s/i);
    if (byAt < 0) continue;
    const by = /^by\s+([A-Za-z0-9.-]{1,253})/i.exec(rcv.slice(byAt))?.[1];
    if (!by || !isReceiverHost(table, by)) continue;
    const fromPart = rcv.slice(0, byAt);
    const fromHost = /^\s*from\s+([A-Za-z0-9.-]{1,253})/i.exec(fromPart)?.[1];
    if (fromHost && /[A-Za-z]/.test(fromHost) && isReceiverHost(table, fromHost)) continue;
    const m = /\[((?:IPv6:)?[0-9A-Fa-f:.]{2,45})\]/.exec(fromPart) ?? /\(((?:IPv6:)?[0-9A-Fa-f:.]{2,45})\)/.exec(fromPart);
    const c = validIp(m?.[1]);
    if (c && !exclude.has(c) && !isPrivateIp(c)) return c;
  }
  return null;
}

/**
 * The sending IP from a `client-ip=` (Received-SPF): one in the bounce's own text, or, inside the returned message, only
 * in a Received-SPF a known receiver wrote ("Fail (protection.outlook.com: …) receiver=protection.outlook.com;
 * client-ip=…", the receiver's verdict on this very message in an Exchange NDR). The copy a sending server returns
 * (Exim's "This is a copy of the message", Postfix's headers part) is the message as it left: a Received-SPF there was
 * written by an earlier hop (a forwarded message, a client's submission) about another connection, not the refused one.
 */
function ipFromClientIp(s: string, table: BounceTable, exclude: Set<string>): string | null {
  const returned = RETURNED_MESSAGE.exec(s);
  const cut = returned ? returned.index : s.length;
  const re = /\bclient[_-]ip\s*[=:]\s*\[?([0-9A-Fa-f:.]{2,45})\]?/gi;
  let seen = 0;
  for (const m of s.matchAll(re)) {
    if (++seen > 20) break; // a few per bounce; bounds the work on a hostile paste
    const c = validIp(m[1]);
    if (!c || exclude.has(c)) continue;
    if (m.index < cut) return c;
    // The field it belongs to: from the last "Received-SPF:" before it (a folded field is at most a few hundred characters).
    const before = s.slice(Math.max(0, m.index - 1000), m.index);
    const at = before.toLowerCase().lastIndexOf('received-spf:');
    if (at < 0) continue;
    const field = before.slice(at) + m[0];
    const reporter = /^received-spf:\s*[a-z]+\s*\(([A-Za-z0-9.-]{1,253}):/i.exec(field)?.[1] ?? /\breceiver=([A-Za-z0-9.-]{1,253})/i.exec(field)?.[1];
    if (reporter && isReceiverHost(table, reporter)) return c;
  }
  return null;
}

// ---------------------------------------------------------------- main

/** `scanLimit`: how much decoded text to read (MAX_SCAN_CHARS; tests raise it to check the regexes on longer input). */
export function parseBounce(input: string, table: BounceTable = BOUNCE_TABLE, scanLimit = MAX_SCAN_CHARS): ParseResult {
  try {
    return parseInner(input, table, scanLimit);
  } catch (e) {
    return { error: `could not read the bounce: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function parseInner(input: string, table: BounceTable, scanLimit: number): ParseResult {
  if (typeof input !== 'string') return { error: 'the bounce must be text' };
  if (input.length > MAX_BOUNCE_BYTES || Buffer.byteLength(input, 'utf8') > MAX_BOUNCE_BYTES) {
    return { error: `the input is too large (over ${MAX_BOUNCE_BYTES / 1024} KiB): paste only the error part of the bounce` };
  }
  // Terminal colour sequences (a log line saved from `grep --color=always`, `less -R`): not binary, and an "m" left
  // before "550" would hide the reply code.
  const text = stripAnsi(input);
  if (!text.trim()) return { error: 'the input is empty: paste the bounce message or the SMTP error (e.g. "550 5.7.26 …")' };
  if (looksBinary(text)) return { error: 'the input looks like binary data, not a bounce message: paste the text of the bounce' };

  let s = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').replace(/\uE000/g, ' ');
  // Exim's log writes a multi-line reply on one line with literal "\n" between the lines ("…Gmail\n421-4.7.26 requires…").
  s = s.replace(/\\n(?=[ \t]*[245]\d\d[ -])/g, '\n');
  s = decodeBase64Parts(s);
  s = decodeQuotedPrintable(s);
  s = stripHtml(s);
  s = s.replace(/\r\n?/g, '\n');
  if (s.length > scanLimit) {
    const nl = s.lastIndexOf('\n', scanLimit);
    s = s.slice(0, nl > 0 ? nl : scanLimit);
  }

  const lines = s.split('\n');
  const fields = parseFields(lines);

  // Receiving host(s) and their IPs: never the sender's IP.
  const hosts: string[] = [];
  const remoteIps = new Set<string>();
  for (const v of fields.get('remote-mta')) {
    const h = v.replace(/^[a-z0-9-]+\s*;\s*/i, '').trim();
    const ip = validIp(h.replace(/^\[|\]$/g, ''));
    if (ip) remoteIps.add(ip);
    else if (h) hosts.push(/^\S+/.exec(h)?.[0] ?? h); // the first word (`\s.*$` is quadratic on long blank runs)
  }
  for (const m of s.matchAll(/\brelay=([A-Za-z0-9.-]{1,253})\[([0-9A-Fa-f:.]{2,45})\]/g)) {
    hosts.push(m[1]);
    const ip = validIp(m[2]);
    if (ip) remoteIps.add(ip);
  }
  for (const m of s.matchAll(/(?:\bH=|\bhost\s+)([A-Za-z0-9.-]{1,253})\s?\[([0-9A-Fa-f:.]{2,45})\]/g)) {
    hosts.push(m[1]);
    const ip = validIp(m[2]);
    if (ip) remoteIps.add(ip);
  }

  // The reply: the Diagnostic-Code when there is one, else the first SMTP reply anywhere.
  let reply: Reply | null = null;
  let format: BounceFormat = 'smtp';
  const diag = fields.get('diagnostic-code');
  if (diag.length) {
    format = 'dsn';
    reply = extractReply(diag[0].replace(/^[a-z0-9-]+\s*;\s*/i, ''), true);
  }
  if (/\bpostfix\/|\bstatus=(?:bounced|deferred)|\bsaid: [45]\d\d/.test(s) && !diag.length) format = 'postfix';
  else if (/\bSMTP error from remote mail server\b|\s\*\*\s|\bR=[\w-]{1,64} T=[\w-]/.test(s) && !diag.length) format = 'exim';
  else if (!diag.length && (fields.get('final-recipient').length || fields.get('reporting-mta').length)) format = 'dsn';
  let otherCodes: string[] = [];
  if (diag.length > 1) {
    // Several recipients' Diagnostic-Codes: the first about sender authentication or policy (x.7.x), else the first.
    const all = diag.map((d) => extractReply(d.replace(/^[a-z0-9-]+\s*;\s*/i, ''), true));
    const policy = all.find((r) => r?.enhancedCode?.split('.')[1] === '7');
    if (policy) reply = policy;
    otherCodes = [...new Set(all.map((r) => r?.enhancedCode).filter((c): c is string => !!c && c !== reply?.enhancedCode))];
  }
  if (!reply) {
    // A "said:" of the bounce's own text: not one inside the returned message (a forwarded bounce).
    const returned = RETURNED_MESSAGE.exec(s);
    const said = /\bsaid:\s*/.exec(returned ? s.slice(0, returned.index) : s);
    const picked = pickReply(said ? s.slice(said.index + said[0].length) : s) ?? (said ? pickReply(s) : null);
    if (picked) {
      reply = picked.reply;
      otherCodes = picked.others;
    }
  }
  // Enhanced code from Status: / dsn= when the reply had none.
  const statusCode = (fields.get('status')[0] ?? /\bdsn=([245]\.\d{1,3}\.\d{1,3})\b/.exec(s)?.[1] ?? '').match(/^[45]\.\d{1,3}\.\d{1,3}$/)?.[0] ?? null;
  if (!reply) {
    if (!statusCode) return { error: 'no SMTP error code (like "550 5.7.26" or "554") found: paste the part of the bounce that has the server\'s reply' };
    reply = { replyCode: null, enhancedCode: statusCode, text: statusCode, segments: [] };
  } else if (!reply.enhancedCode && statusCode && statusCode[0] === reply.replyCode?.[0]) {
    reply.enhancedCode = statusCode;
  }

  // Recipient.
  let recipient: string | null = null;
  for (const v of [...fields.get('final-recipient'), ...fields.get('original-recipient')]) {
    recipient = validAddress(v.replace(/^[a-z0-9-]+\s*;\s*/i, ''));
    if (recipient) break;
  }
  if (!recipient) {
    const m =
      /\bto=<([^<>\s]{1,320})>/.exec(s) ??
      /^[ \t]*<([^<>\s]{1,320})>:[ \t]*(?:\n[ \t]*)?host\b/m.exec(s) ??
      /\s\*\*\s+(\S{1,320})/.exec(s) ??
      /^[ \t]+([^\s<>@]{1,64}@[^\s<>]{1,255})\n[ \t]+host\s/m.exec(s) ??
      /\[SMTP:([^\]\s]{1,320})\]/i.exec(s) ??
      /\bRCPT TO:\s*<([^<>\s]{1,320})>/i.exec(s);
    recipient = validAddress(m?.[1]);
  }

  // Sender domain: the reply's own words first, then From, then the envelope. From: the first one after the bounce's own
  // headers (the returned message's, not a quoted reply's further down its body); a daemon's From never counts.
  const domain =
    domainFromText(reply.text) ??
    senderDomainFromAddresses(fields.afterHead('from')) ??
    senderDomainFromAddresses(fields.get('from')) ??
    (() => {
      const f = /\bF=<([^<>\s]{1,320})>/.exec(s) ?? /\bfrom=<([^<>\s]{1,320})>/.exec(s);
      const a = validAddress(f?.[1]);
      return a ? a.slice(a.lastIndexOf('@') + 1) : null;
    })() ??
    senderDomainFromAddresses([...fields.get('x-postfix-sender'), ...fields.get('original-sender')].map((v) => v.replace(/^[a-z0-9-]+\s*;\s*/i, ''))) ??
    senderDomainFromAddresses(fields.get('return-path'), true) ??
    senderDomainFromAddresses(fields.get('sender'), true) ??
    senderDomainFromAddresses(fields.get('original-envelope-id')) ??
    null;

  // Sending IP: the reply's words, then client-ip= (Received-SPF), then a Received line written by the receiver.
  let ip = ipFromText(reply.text, remoteIps);
  if (!ip) ip = ipFromClientIp(s, table, remoteIps);
  if (!ip) ip = ipFromReceived(fields.receivedHeaders(), table, remoteIps);

  // Fingerprint on the reply's words (plus the DSN's human part for context), hosts, recipient.
  const receiver = identifyReceiver(table, reply.text, hosts, recipient);

  return {
    receiver,
    replyCode: reply.replyCode,
    enhancedCode: reply.enhancedCode,
    text: reply.text,
    segments: reply.segments,
    domain,
    ip,
    recipient,
    remoteMta: hosts[0]?.toLowerCase().replace(/\.$/, '') ?? null,
    format,
    ...(otherCodes.length ? { otherCodes } : {}),
  };
}
