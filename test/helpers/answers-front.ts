// The loopback front of the panel-answer fuzz tests (test/adapters/panels/panel-answers-fuzz.test.ts: reads;
// panel-write-answers-fuzz.test.ts writes): a server on 127.0.0.1 (port 0) that forwards every call to a panel emulator
// and rewrites the one answer its script picks, the seeded mutations it rewrites answers with, and a watchdog that
// names a call that does not settle. Moved here from the read fuzz test unchanged (same PRNG draws, same order), so
// both tests rewrite answers the same way.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Rng } from './prng.js';

// ------------------------------------------------------------------------------------------------ the front

/** An answer as it goes over the wire. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** A call as the front counts it: method and path (no query), and which occurrence of it in one adapter call. */
export const callKey = (method: string, url: string) => `${method} ${url.split('?')[0]}`;

/** What the front does to the `nth` answer to `key` (0-based): `rewrite` returns the answer served instead. */
export interface Script {
  key: string;
  nth: number;
  rewrite: (a: Answer) => Answer;
  /**
   * Also rewrite the first answer to each call not in this set (the calls the well-formed run made): the paths an
   * adapter takes only after a failure (Plesk's /server/ips when the XML prefs fail). Absent: only the one above.
   */
  unseenBesides?: ReadonlySet<string>;
  /**
   * The panel refusing one call: the `nth` answer to `key` is this answer of the front's own and the call is never
   * forwarded, so the panel did nothing. The write fuzz test reaches an adapter's recovery paths this way (a step
   * refused, the zone read again, the steps before it undone) and rewrites one answer among them. Absent: every call
   * is forwarded.
   */
  refuse?: { key: string; nth: number; answer: Answer };
}

export interface Front {
  url: string;
  /** The calls seen since the last reset, in order (key, occurrence). */
  seen: [string, number][];
  /** The bodies of those calls, in the same order (for a failure's report). */
  bodies: string[];
  /** The answer served in place of the scripted one, once served. */
  served: Answer | null;
  /** Answers rewritten to calls the well-formed run did not make (Script.unseenBesides), in order. */
  unseen: { key: string; answer: Answer }[];
  script: Script | null;
  reset(script: Script | null): void;
  close(): Promise<void>;
}

/** A front on 127.0.0.1 (port 0) forwarding every request to `upstream`, rewriting the one its script picks. */
export async function startFront(upstream: string): Promise<Front> {
  const counts = new Map<string, number>();
  const front: Front = {
    url: '',
    seen: [],
    bodies: [],
    served: null,
    unseen: [],
    script: null,
    reset(script) {
      counts.clear();
      this.seen = [];
      this.bodies = [];
      this.served = null;
      this.unseen = [];
      this.script = script;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const forward = (req: http.IncomingMessage, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const up = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? 'application/json'), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const key = callKey(req.method ?? 'GET', req.url ?? '/');
      const n = counts.get(key) ?? 0;
      counts.set(key, n + 1);
      front.seen.push([key, n]);
      front.bodies.push(Buffer.concat(chunks).toString('utf8'));
      const s = front.script;
      let a: Answer;
      try {
        a = s?.refuse && s.refuse.key === key && s.refuse.nth === n ? s.refuse.answer : await forward(req, Buffer.concat(chunks));
      } catch (e) {
        a = { status: 599, contentType: 'text/plain', body: String(e) };
      }
      if (s && s.key === key && s.nth === n) {
        a = s.rewrite(a);
        front.served = a;
      } else if (s?.unseenBesides && n === 0 && !s.unseenBesides.has(key)) {
        a = s.rewrite(a);
        front.unseen.push({ key, answer: a });
      }
      res.writeHead(a.status, { 'content-type': a.contentType });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}

// ------------------------------------------------------------------------------------------------ mutations

export type Path = (string | number)[];

/** Every path into a JSON value (the root too), in a fixed order. */
export function pathsOf(j: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(j)) j.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (j && typeof j === 'object') for (const k of Object.keys(j)) pathsOf((j as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

export function getAt(j: unknown, p: Path): unknown {
  let cur = j;
  for (const k of p) cur = (cur as Record<string | number, unknown>)[k];
  return cur;
}

/** `j` with the value at `p` set by `f` (undefined: the field taken out, the list item spliced out). Root: f(j). */
export function setAt(j: unknown, p: Path, f: (v: unknown) => unknown): unknown {
  if (!p.length) return f(j);
  const parent = getAt(j, p.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const k = p[p.length - 1];
  const v = f((parent as Record<string | number, unknown>)[k]);
  if (v === undefined) {
    if (Array.isArray(parent)) parent.splice(k as number, 1);
    else delete (parent as Record<string | number, unknown>)[k];
  } else (parent as Record<string | number, unknown>)[k] = v;
  return j;
}

export const b64 = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');

/** Values of a wrong kind or size. Never "undefined", "[object Object]" or "Infinity" (the words a made-up value shows). */
export const ODD: readonly unknown[] = [
  0, -1, 1.5, -0.5, 2 ** 53 + 1, 1e308, -1e308, 4294967296, 99999999999999999999, '', ' ', '-1', '1e400', '0x10', '007', '3600s', 'NaN',
  true, false, null, [], {}, [1, 'a'], { a: 1 }, ['x'], 'x'.repeat(70000), '\u0000\u001b[31m', '<b>bold</b>', 'é\u00a0\ufeff', 'a.example', '..',
];

/** Base64 that is not, and base64 of what a field should not hold. */
export const ODD_B64: readonly string[] = [
  '%%% not base64 %%%', 'YQ', 'YWJj=', '====', ' YWJj', 'YW Jj', b64(Buffer.from([0xff, 0xfe, 0x80, 0xc3])), b64(Buffer.from([0xc3, 0x28])), b64(''), b64(' '),
  b64('-1'), b64('1e400'), b64('0x1F'), b64('NaN'), b64('99999999999999999999'), b64('4294967296'), b64('2024061100.5'), b64('x'.repeat(70000)), b64('\u0000'),
  b64('a..b.'), b64('.'), b64('@'),
];

/** Record types no panel gives here, for items added with one. */
export const ODD_TYPES: readonly unknown[] = ['TYPE65534', 'BOGUS', 'txt', '', 'SOA', 'A6', 'SPF', 7, null];

export type Mutation = (j: unknown, rng: Rng, log: string[]) => unknown;

export const pathText = (p: Path) => (p.length ? p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('') : '(root)');
export const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 40)}…(${s.length} chars)` : s;
};

/** A path whose last key says it holds base64 (cPanel's *_b64 fields and the items of data_b64). */
export const isB64Path = (p: Path) => p.some((k) => typeof k === 'string' && k.endsWith('_b64'));

export const MUTATIONS: Mutation[] = [
  // A field dropped, a list item taken out.
  (j, rng, log) => {
    const ps = pathsOf(j).filter((p) => p.length);
    if (!ps.length) return j;
    const p = rng.pick(ps);
    log.push(`drop ${pathText(p)}`);
    return setAt(j, p, () => undefined);
  },
  // A value of another kind.
  (j, rng, log) => {
    const p = rng.pick(pathsOf(j));
    const v = rng.pick(ODD);
    log.push(`${pathText(p)} = ${short(v)}`);
    return setAt(j, p, () => structuredClone(v));
  },
  // The same value as another type: number ↔ string, a list of one, an object around it.
  (j, rng, log) => {
    const ps = pathsOf(j).filter((p) => p.length);
    if (!ps.length) return j;
    const p = rng.pick(ps);
    const how = rng.int(4);
    log.push(`${pathText(p)} as ${['the other of number/string', 'a list of it', 'an object holding it', 'its JSON text'][how]}`);
    return setAt(j, p, (v) => (how === 0 ? (typeof v === 'number' ? String(v) : typeof v === 'string' ? Number(v) : v) : how === 1 ? [v] : how === 2 ? { value: v } : JSON.stringify(v)));
  },
  // Base64 that is not, or of what should not be there (on a base64 field when there is one).
  (j, rng, log) => {
    const all = pathsOf(j).filter((p) => typeof getAt(j, p) === 'string');
    const b = all.filter(isB64Path);
    const ps = b.length ? b : all;
    if (!ps.length) return j;
    const p = rng.pick(ps);
    const v = rng.pick(ODD_B64);
    log.push(`${pathText(p)} = ${short(v)}`);
    return setAt(j, p, () => v);
  },
  // A list item repeated (duplicate ids, duplicate records), or added with an unknown type.
  (j, rng, log) => {
    const lists = pathsOf(j).filter((p) => Array.isArray(getAt(j, p)) && (getAt(j, p) as unknown[]).length);
    if (!lists.length) return j;
    const p = rng.pick(lists);
    const list = getAt(j, p) as unknown[];
    const i = rng.int(list.length);
    const copy = structuredClone(list[i]);
    if (rng.next() < 0.5 && copy && typeof copy === 'object' && !Array.isArray(copy)) {
      const o = copy as Record<string, unknown>;
      const t = rng.pick(ODD_TYPES);
      for (const k of ['type', 'record_type']) if (k in o) o[k] = t;
      log.push(`${pathText(p)}[${i}] added again with type ${short(t)}`);
    } else log.push(`${pathText(p)}[${i}] repeated`);
    list.splice(rng.int(list.length + 1), 0, copy);
    return j;
  },
  // Numbers pushed out of range.
  (j, rng, log) => {
    const ps = pathsOf(j).filter((p) => typeof getAt(j, p) === 'number');
    if (!ps.length) return j;
    const p = rng.pick(ps);
    const v = rng.pick([-1, -86400, 2 ** 31, 2 ** 32, 2 ** 53 + 1, 1e308, 0.5, 1e-7]);
    log.push(`${pathText(p)} = ${v}`);
    return setAt(j, p, () => v);
  },
];

/** Bodies in place of the answer: not JSON, or JSON with nothing in it; the panels' own failure envelopes. */
export function wholeBody(a: Answer, rng: Rng, log: string[]): Answer {
  const html = (t: string) => ({ ...a, contentType: 'text/html', body: t });
  const choices: [string, () => Answer][] = [
    ['an HTML error page', () => html('<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>')],
    ['an HTML login page', () => html('<html><head><title>Login</title></head><body><form><input type="password" name="pass"></form></body></html>')],
    ['JSON cut short', () => ({ ...a, body: a.body.slice(0, rng.int(Math.max(1, a.body.length - 1))) })],
    ['an empty body', () => ({ ...a, body: '' })],
    ['null', () => ({ ...a, body: 'null' })],
    ['[]', () => ({ ...a, body: '[]' })],
    ['{}', () => ({ ...a, body: '{}' })],
    ['"ok"', () => ({ ...a, body: '"ok"' })],
    ['cPanel status 0 with errors', () => ({ ...a, body: JSON.stringify({ status: 0, errors: ['Internal error'], data: null, messages: null, warnings: null, metadata: {} }) })],
    ['cPanel status 0 without errors', () => ({ ...a, body: JSON.stringify({ status: 0, errors: null, data: null }) })],
    ['WHM metadata.result 0 with a reason', () => ({ ...a, body: JSON.stringify({ metadata: { result: 0, reason: 'Access denied', command: 'x', version: 1 } }) })],
    ['WHM metadata.result 0 without a reason', () => ({ ...a, body: JSON.stringify({ metadata: { result: 0 } }) })],
    ['Plesk error object', () => ({ ...a, body: JSON.stringify({ code: 1013, message: 'Object not found' }) })],
  ];
  const [what, f] = rng.pick(choices);
  log.push(`body: ${what}`);
  return f();
}

/** Plesk's XML API answers: the status taken out or another, a tag emptied, the body replaced. */
export function xmlMutation(a: Answer, rng: Rng, log: string[]): Answer {
  const choices: [string, (t: string) => string][] = [
    ['<status> taken out', (t) => t.replace(/<status>[^<]*<\/status>/g, '')],
    ['<status>error</status> without errtext', (t) => t.replace(/<status>ok<\/status>/, '<status>error</status>')],
    ['<status>maybe</status>', (t) => t.replace(/<status>ok<\/status>/, '<status>maybe</status>')],
    ['every tag emptied', (t) => t.replace(/>([^<]+)</g, '><')],
    ['values doubled', (t) => t.replace(/>([^<]+)</g, '>$1 $1<')],
    ['cut short', (t) => t.slice(0, rng.int(t.length))],
    ['an HTML page', () => '<html><body>Bad Gateway</body></html>'],
    ['not XML', () => '{"status":"ok"}'],
  ];
  const [what, f] = rng.pick(choices);
  log.push(`XML: ${what}`);
  return { ...a, body: f(a.body) };
}

/** One rewrite of `a`: mostly 1–3 structural mutations of its JSON, sometimes a body of another kind. */
export function mutate(a: Answer, rng: Rng, log: string[]): Answer {
  if (/xml/.test(a.contentType) || a.body.trimStart().startsWith('<')) return rng.next() < 0.8 ? xmlMutation(a, rng, log) : wholeBody(a, rng, log);
  if (rng.next() < 0.15) return wholeBody(a, rng, log);
  let j: unknown;
  try {
    j = JSON.parse(a.body);
  } catch {
    return wholeBody(a, rng, log);
  }
  for (let k = 1 + rng.int(3); k > 0; k--) j = rng.pick(MUTATIONS)(j, rng, log);
  return { ...a, body: JSON.stringify(j) ?? 'null' };
}

/** The call settled within `ms`, or the watchdog's verdict (a loopback answer takes milliseconds: 20 s is a hang). */
export async function settled(p: Promise<unknown>, ms = 20_000): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown } | { hung: true }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<{ hung: true }>((resolve) => (timer = setTimeout(() => resolve({ hung: true }), ms)));
  try {
    return await Promise.race([p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** An answer as a failure message shows it (long bodies cut). */
export const shown = (a: Answer) => `HTTP ${a.status} ${a.contentType}: ${a.body.length > 3000 ? `${a.body.slice(0, 3000)}…(${a.body.length} chars)` : a.body}`;
