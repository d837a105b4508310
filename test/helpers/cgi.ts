// What the front-door tests share: a CGI response (as runCgi writes it) taken apart, an empty request body, a scratch
// directory, and fake cPanel binaries on PATH.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { installFakeBins, type FakeBins } from './emulators/bins.js';
import { createServer, type Server } from 'node:net';
import { makeCpState, uapiCall, type CpState } from './emulators/cpanel.js';

export interface ParsedCgi {
  status: number;
  headers: [string, string][];
  header(name: string): string | undefined;
  text: string;
  json<T = unknown>(): T;
}

/** A CGI response: `Status:` line, headers, blank line, body. */
export function parseCgi(out: Buffer | string): ParsedCgi {
  const s = out.toString();
  const split = s.indexOf('\r\n\r\n');
  assert.ok(split > 0, `not a CGI response: ${s.slice(0, 200)}`);
  const lines = s.slice(0, split).split('\r\n');
  const status = /^Status: (\d{3})/.exec(lines[0]);
  assert.ok(status, `first line must be Status: (${lines[0]})`);
  const headers = lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
  const text = s.slice(split + 4);
  return {
    status: Number(status[1]),
    headers,
    header: (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** An empty request body. */
export const noBody = () => Readable.from([]);

/** A test file's scratch directory and PATH as it was before (tests put fake panel binaries first on it). */
export interface Scratch {
  readonly dir: string;
  readonly path: string | undefined;
}

/** A scratch directory made before the file's (or describe's) tests and removed after them; PATH restored then too. */
export function scratchDir(prefix: string): Scratch {
  const s = { dir: '', path: undefined as string | undefined };
  before(() => {
    s.dir = mkdtempSync(join(tmpdir(), prefix));
    s.path = process.env.PATH;
  });
  after(() => {
    process.env.PATH = s.path;
    rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}

/**
 * Fake cPanel binaries (`uapi`, `whmapi1`: test/helpers/emulators/bins.ts) serving the emulator's default state, first
 * on PATH for the tests of the enclosing describe; removed after them. The object stands for the binaries installed.
 */
export function fakeCpanelBins(scratch: Scratch): FakeBins {
  let bins: FakeBins | null = null;
  const installed = () => {
    assert.ok(bins, 'the fake binaries are installed by a before() hook: use them inside tests and hooks');
    return bins;
  };
  before(() => {
    bins = installFakeBins(makeCpState());
    process.env.PATH = `${bins.dir}:${scratch.path}`;
  });
  after(() => {
    process.env.PATH = scratch.path;
    if (bins) rmSync(bins.dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return installed().dir;
    },
    get stateFile() {
      return installed().stateFile;
    },
    path: (name) => installed().path(name),
    read: <T>() => installed().read<T>(),
    write: (state) => installed().write(state),
  };
}

/**
 * A LiveAPI socket as cpsrvd provides it to a `.live.cgi` page (CPANEL_CONNECT_SOCKET: length-prefixed messages;
 * `<cpaneljson enable="1">`, UAPI actions as JSON in `<cpanelaction>`, `<cpanelxml shutdown="1" />`), answering
 * from the cPanel emulator's state as `user`. `seen` records "enable", "Module::func [name]" per call and "shutdown";
 * `override` may answer a call itself.
 */
export async function startLiveApi(
  dir: string,
  state: CpState,
  user: string,
  override?: (module: string, func: string) => unknown,
): Promise<{ sock: string; seen: string[]; close(): Promise<void> }> {
  const sock = join(dir, `liveapi-${Math.random().toString(36).slice(2)}.sock`);
  const seen: string[] = [];
  const server: Server = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const len = Number(buf.slice(0, nl));
        if (buf.length < nl + 1 + len) return;
        const msg = buf.slice(nl + 1, nl + 1 + len);
        buf = buf.slice(nl + 1 + len);
        const first = msg.split('\n')[0];
        if (msg.startsWith('<cpaneljson')) {
          seen.push(first === '<cpaneljson enable="1">' ? 'enable' : first);
          c.write('<cpanelresult>{"data":{"result":1}}</cpanelresult>');
        } else if (msg.startsWith('<cpanelxml shutdown')) {
          seen.push(first === '<cpanelxml shutdown="1" />' ? 'shutdown' : first);
          c.end();
        } else {
          const req = JSON.parse(msg.replace(/^<cpanelaction>\n/, '').replace(/\n<\/cpanelaction>$/, '')) as { module: string; func: string; apiversion: string; args?: Record<string, string> };
          assert.equal(req.apiversion, 'uapi');
          seen.push(`${req.module}::${req.func}${req.args?.name ? ` ${req.args.name}` : ''}`);
          const r = override?.(req.module, req.func) ?? uapiCall(state, user, req.module, req.func, Object.entries(req.args ?? {}));
          c.write(`<cpanelresult>${JSON.stringify({ cpanelresult: { result: r === 'not-found' ? { status: 0, errors: ['no such function'] } : r } })}</cpanelresult>`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  return { sock, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Waits (up to a second) until `seen` holds `what`. */
export async function waitForSeen(seen: string[], what: string): Promise<void> {
  for (let i = 0; i < 100 && !seen.includes(what); i++) await new Promise((r) => setTimeout(r, 10));
}
