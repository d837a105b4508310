// Writes fake `uapi` / `whmapi1` / `plesk` executables into a temp dir: tiny sh wrappers that run cli.ts under tsx
// with the path of a JSON state file. Tests put the dir first on PATH (or pass the full path).
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TEST_BUILD } from '../cli-argv.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
// tsx's `--import` entry (package export "." → dist/loader.mjs), resolved from this repo's node_modules.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** node's arguments for the entry point: the run's compiled copy (scripts/test.mjs), else cli.ts through tsx. */
const ENTRY = TEST_BUILD ? [join(TEST_BUILD, 'test/helpers/emulators/cli.js')] : ['--import', TSX, CLI];

export interface FakeBins {
  dir: string;
  stateFile: string;
  path(name: 'uapi' | 'whmapi1' | 'plesk'): string;
  read<T>(): T;
  write(state: unknown): void;
}

export function installFakeBins(state: unknown): FakeBins {
  const dir = mkdtempSync(join(tmpdir(), 'mh-fakebin-'));
  const stateFile = join(dir, 'state.json');
  writeFileSync(stateFile, JSON.stringify(state));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  for (const name of ['uapi', 'whmapi1', 'plesk'] as const) {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\nexec ${q(process.execPath)} ${ENTRY.map(q).join(' ')} ${name} ${q(stateFile)} "$@"\n`);
    chmodSync(p, 0o755);
  }
  return {
    dir,
    stateFile,
    path: (name) => join(dir, name),
    read: <T>() => JSON.parse(readFileSync(stateFile, 'utf8')) as T,
    write: (s) => writeFileSync(stateFile, JSON.stringify(s)),
  };
}

/**
 * A wrapper of the fake `name` (at `<dir>/<name>-killed`) that runs it, then, when one of its arguments is `arg`, is
 * killed by SIGTERM before it exits: a panel CLI stopped after it made the change (at its timeout, or by a signal).
 */
export function killedAfter(bins: FakeBins, name: 'uapi' | 'whmapi1' | 'plesk', arg: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const p = join(bins.dir, `${name}-killed`);
  writeFileSync(p, `#!/bin/sh\n${q(bins.path(name))} "$@"\nrc=$?\nfor a in "$@"; do if [ "$a" = ${q(arg)} ]; then kill -TERM $$; fi; done\nexit $rc\n`);
  chmodSync(p, 0o755);
  return p;
}
