// Set-up shared by the cPanel and WHM adapters' server-file tests: an emulator of the panel's API on loopback, a temp
// root holding the server files the adapter reads (/etc/mailips, /etc/exim.conf.localopts, DKIM keys…) as the
// emulator's state has them, and the adapter over both; every rig is closed and its root removed after each test.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'node:test';
import { makeCpState, type CpState, type RunningServer } from './emulators/cpanel.js';
import { writeCpanelServerFiles } from './emulators/whm.js';

export interface ServerFilesRig<T, H extends T, P> {
  state: CpState;
  srv: RunningServer;
  root: string;
  /** The adapter's HTTP transport to the emulator. */
  http: H;
  /** The adapter over `transport` (default: `http`; a test's wrapper of it) and `root`. */
  panel: (transport?: T) => P;
}

/**
 * A `rig(setup?, files?)` for one test file: `start` runs the emulator over the state `setup` edited, `transport` the
 * adapter's HTTP transport to its URL, `adapter` the adapter over a transport and the root; `prefix` names the temp
 * roots. Registers the clean-up (afterEach) of the file's rigs.
 */
export function serverFilesRigs<T, H extends T, P>(opts: {
  prefix: string;
  start: (state: CpState) => Promise<RunningServer>;
  transport: (url: string) => H;
  adapter: (transport: T, root: string) => P;
}): (setup?: (s: CpState) => void, files?: { mailchannels?: boolean }) => Promise<ServerFilesRig<T, H, P>> {
  const rigs: ServerFilesRig<T, H, P>[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0)) {
      await r.srv.close();
      rmSync(r.root, { recursive: true, force: true });
    }
  });
  return async (setup = () => {}, files = {}) => {
    const state = makeCpState();
    setup(state);
    const srv = await opts.start(state);
    const root = mkdtempSync(join(tmpdir(), opts.prefix));
    writeCpanelServerFiles(state, root, files);
    const http = opts.transport(srv.url);
    const r: ServerFilesRig<T, H, P> = { state, srv, root, http, panel: (transport: T = http) => opts.adapter(transport, root) };
    rigs.push(r);
    return r;
  };
}

/** A file that exists but cannot be read: a directory in its place (readFileSync: EISDIR — the tests run as root). */
export function unreadable(root: string, path: string): void {
  rmSync(join(root, path), { force: true });
  mkdirSync(join(root, path), { recursive: true });
}
