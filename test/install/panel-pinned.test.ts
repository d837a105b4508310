// A panel install on top of a standalone one (review r7): the standalone installer writes {"panel": "files",
// "panelRoot": "/etc/mailhealth/panel"}, and the panel installers keep an existing config (plesk.sh only adds its
// "token"). The background service must still run the installer's panel: the unit names it (--panel whm / --panel
// plesk before `service`), and the app's own command line parser — not a pattern — says which panel that line starts.
// Never touches the real / (sandbox.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { panelFromOptions } from '../../src/cli/context.js';
import type { GlobalOptions } from '../../src/cli/context.js';
import { sandbox, type Sandbox } from './sandbox.js';

const CONFIG = '/etc/mailhealth/config.json';

/** The unit's ExecStart arguments after the Node.js path and the app's entry point (the sandbox has no spaces in them). */
function unitArgs(s: Sandbox): string[] {
  const unit = readFileSync(join(s.root, 'etc/systemd/system/mailhealth.service'), 'utf8');
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  assert.ok(line, unit);
  const words = line.split(' ');
  assert.equal(words[1], '/usr/local/mailhealth/bin/mailhealth.js', line);
  return words.slice(2);
}

/**
 * The options `mailhealth service` runs with for that command line, parsed by the app's own program (its action
 * replaced: nothing starts), with the config path moved into the sandbox.
 */
async function serviceOptions(s: Sandbox): Promise<GlobalOptions> {
  const args = unitArgs(s).map((w) => (w === CONFIG ? join(s.root, CONFIG) : w));
  const program = buildProgram();
  const service = program.commands.find((c) => c.name() === 'service');
  assert.ok(service);
  let seen: GlobalOptions | undefined;
  service.action((_o: unknown, cmd: Command) => {
    seen = cmd.optsWithGlobals() as GlobalOptions;
  });
  await program.parseAsync(['node', 'mailhealth', ...args]);
  assert.ok(seen, `the unit's command line does not run \`service\`: ${args.join(' ')}`);
  return seen;
}

const config = (s: Sandbox) => JSON.parse(readFileSync(join(s.root, CONFIG), 'utf8')) as Record<string, unknown>;

describe('a panel install over a standalone one runs the service on the installer\'s panel', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());

  test('standalone.sh, then plesk.sh: the config still says "files", the service runs Plesk', async () => {
    assert.equal(s.run('standalone.sh').code, 0);
    const r = s.run('plesk.sh');
    assert.equal(r.code, 0, r.err + r.out);
    // The admin's config is kept (the token added): the case this is about.
    assert.equal(config(s).panel, 'files');
    assert.equal(typeof config(s).token, 'string');
    const o = await serviceOptions(s);
    assert.equal(o.panel, 'plesk');
    assert.equal(panelFromOptions(o).kind, 'plesk');
  });

  test('then cpanel.sh: the service runs WHM', async () => {
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.equal(config(s).panel, 'files');
    const o = await serviceOptions(s);
    assert.equal(o.panel, 'whm');
    assert.equal(panelFromOptions(o).kind, 'whm');
  });
});

describe('standalone.sh, then cpanel.sh', () => {
  let s: Sandbox;
  before(() => (s = sandbox()));
  after(() => s.close());

  test('the service runs WHM, not the files panel the kept config names', async () => {
    assert.equal(s.run('standalone.sh').code, 0);
    const r = s.run('cpanel.sh');
    assert.equal(r.code, 0, r.err + r.out);
    assert.deepEqual(config(s), { panel: 'files', panelRoot: '/etc/mailhealth/panel' });
    const o = await serviceOptions(s);
    assert.equal(panelFromOptions(o).kind, 'whm');
  });
});
