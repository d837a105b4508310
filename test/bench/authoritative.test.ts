// The benchmark's NSD: used when present; installed with apt-get when missing and the benchmark runs as root; else
// (or when installing fails, or is switched off) an error that says how to install it. No real package is installed:
// the machine is a stand-in that records the commands.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ensureNsd, NSD_BIN, type InstallDeps } from '../../bench/authoritative.js';

function machine(opts: { nsd: boolean; apt?: boolean; isRoot?: boolean; mayInstall?: boolean; installWorks?: 'first' | 'after-update' | 'never' }) {
  const files = new Set<string>(opts.apt === false ? [] : ['/usr/bin/apt-get']);
  if (opts.nsd) files.add(NSD_BIN);
  const ran: string[] = [];
  const logged: string[] = [];
  let updated = false;
  const deps: InstallDeps = {
    exists: (p) => files.has(p),
    run: (cmd, args) => {
      ran.push([cmd, ...args].join(' '));
      if (args[0] === 'update') updated = true;
      if (args[0] === 'install' && (opts.installWorks === 'first' || (opts.installWorks === 'after-update' && updated))) files.add(NSD_BIN);
      return files.has(NSD_BIN) || args[0] === 'update' ? 0 : 100;
    },
    log: (l) => logged.push(l),
    isRoot: opts.isRoot ?? true,
    mayInstall: opts.mayInstall ?? true,
  };
  return { deps, ran, logged };
}

it('uses NSD when it is there, and runs nothing', () => {
  const m = machine({ nsd: true });
  ensureNsd(m.deps);
  assert.deepEqual(m.ran, []);
});

it('installs NSD with apt-get when it is missing and the benchmark runs as root, updating the lists if the first try fails', () => {
  const first = machine({ nsd: false, installWorks: 'first' });
  ensureNsd(first.deps);
  assert.deepEqual(first.ran, ['apt-get install -y nsd']);
  assert.match(first.logged.join('\n'), /installing it \(apt-get install -y nsd/);

  const later = machine({ nsd: false, installWorks: 'after-update' });
  ensureNsd(later.deps);
  assert.deepEqual(later.ran, ['apt-get install -y nsd', 'apt-get update', 'apt-get install -y nsd']);
});

it('says how to install NSD, and installs nothing, when not root, without apt-get or when installing is switched off', () => {
  for (const opts of [{ isRoot: false }, { apt: false }, { mayInstall: false }]) {
    const m = machine({ nsd: false, installWorks: 'first', ...opts });
    assert.throws(() => ensureNsd(m.deps), /NSD is not installed .*apt-get update && apt-get install -y nsd/, JSON.stringify(opts));
    assert.deepEqual(m.ran, [], JSON.stringify(opts));
  }
});

it('says so when apt-get could not install it', () => {
  const m = machine({ nsd: false, installWorks: 'never' });
  assert.throws(() => ensureNsd(m.deps), /installing NSD with apt-get did not work\. NSD is not installed/);
  assert.equal(m.ran.length, 3);
});
