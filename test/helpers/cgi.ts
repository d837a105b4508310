// What the front-door tests share: a CGI response (as runCgi writes it) taken apart, an empty request body, a scratch
// directory, and fake cPanel binaries on PATH.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { installFakeBins, type FakeBins } from './emulators/bins.js';
import { makeCpState } from './emulators/cpanel.js';

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
