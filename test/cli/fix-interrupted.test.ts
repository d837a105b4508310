// `mailhealth fix --apply` after a fix was killed with SIGKILL (QA repro-kill9.sh, repro-plesk-midwrite.sh) and after
// the customer made the previewed change by hand (repro-samevalue.sh):
// - once the dead fix's lease has run out, its intent is settled by the next command (a dead holder that left an intent
//   open keeps its lease until then: its write may still be under way — test/core/plans/dead-holder.test.ts);
// - the command settles interrupted fixes before it plans: planned first, a fix without --plan-hash took the
//   half-written Plesk zone (old SPF deleted, new one not added yet) for its preview, and was refused as "the zone
//   changed since the preview" once the old record was put back — though the user had made no preview;
// - a preview made by hand meanwhile is "Nothing to change" (exit 0), not "refused: the zone changed" (exit 1).
// Real CLI processes; the files panel and a Plesk emulator on loopback, each served by a loopback DNS server; the dead
// processes are real ones, killed. The DNS data is re-served between commands (never on a timer).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createResolver } from '../../src/adapters/dns/resolver.js';
import { startDnsServer, type DnsServer, type ServedZoneMap } from '../../src/adapters/dns/server.js';
import { PanelHttpClient } from '../../src/adapters/panels/http.js';
import { PleskPanel, PleskRestCli } from '../../src/adapters/panels/plesk/index.js';
import { openStore } from '../../src/adapters/store/store.js';
import { withCopies } from '../../src/core/plans/apply.js';
import { makePlan } from '../../src/core/plans/index.js';
import { addZoneFile } from '../../src/demo/world.js';
import { runCli } from '../helpers/cli.js';
import { makePleskState, recordsOf, startPleskServer, type PleskState } from '../helpers/emulators/plesk.js';
import { serverFixture } from '../helpers/emulators/rig.js';
import { startPlay, type Play } from '../helpers/fixplay.js';
import { SERVER, WORLD } from '../helpers/scenario.js';

describe('files panel', { timeout: 180_000 }, () => {
  let play: Play;
  const D = 'florist.example';
  const cli = async (...args: string[]) => {
    const r = await runCli(['--panel', 'files', '--panel-root', play.dir, '--resolver', play.dns.address, '--authoritative-port', String(play.dns.port), '--db', play.dbPath, '--config', join(play.dir, 'empty.json'), ...args]);
    play.refresh();
    return r;
  };
  const fresh = async () => {
    await play?.close();
    play = await startPlay();
    writeFileSync(join(play.dir, 'empty.json'), '{}\n');
  };
  after(async () => {
    await play?.close();
  });

  test('killed with SIGKILL after its intent, its lease run out: the same preview applied again is applied (exit 0), the dead fix settled as not written', async () => {
    await fresh();
    const preview = JSON.parse((await cli('fix', D, '--check', 'spf', '--json')).stdout) as { planHash: string };
    // What the killed fix left: its intent, and its lock on the domain.
    const plan = await play.plan(D, 'spf');
    assert.equal(plan.planHash, preview.planHash);
    const zone = await play.panel.readZone(D);
    // (Its lock is gone: the lease ran out. While it holds, a dead holder that left an intent open keeps it — its write
    // may still be under way in the panel — test/core/plans/dead-holder.test.ts.)
    const id = play.store.recordIntent({ domain: D, check: 'spf', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: withCopies(zone, plan.changes), byUser: 'root' });

    const r = await cli('fix', D, '--check', 'spf', '--apply', '--plan-hash', preview.planHash);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^applied/m);
    assert.doesNotMatch(r.stdout, /being applied now|Another fix/);
    assert.doesNotMatch(play.zoneText(D), /netblocks\.dreamhost\.com/);
    const hist = await cli('history', D, '--no-recheck', '--json');
    const changes = (JSON.parse(hist.stdout) as { changes: { id: number; status: string; error: string | null }[] }).changes;
    assert.deepEqual(changes.map((c) => [c.id, c.status]), [[id + 1, 'applied'], [id, 'failed']]);
    assert.match(changes[1].error ?? '', /the write never happened/);
  });

  test('the previewed change made by hand, then applied with its hash: "Nothing to change" (exit 0; --json why "nothing")', async () => {
    await fresh();
    const preview = JSON.parse((await cli('fix', D, '--check', 'spf', '--json')).stdout) as { planHash: string; changes: { before: { value: string }; after: { value: string } }[] };
    const [c] = preview.changes;
    play.writeZone(D, play.zoneText(D).replace(JSON.stringify(c.before.value), JSON.stringify(c.after.value)));
    play.refresh();
    const byHand = play.zoneText(D);

    const r = await cli('fix', D, '--check', 'spf', '--apply', '--plan-hash', preview.planHash);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, 'Nothing to change: the records are already right.\n');
    const j = await cli('fix', D, '--check', 'spf', '--apply', '--plan-hash', preview.planHash, '--json');
    assert.equal(j.code, 0, j.stdout + j.stderr);
    const out = JSON.parse(j.stdout) as { status: string; why?: string; changes: unknown[] };
    assert.equal(out.status, 'refused');
    assert.equal(out.why, 'nothing');
    assert.deepEqual(out.changes, []);
    assert.equal(play.zoneText(D), byHand, 'nothing written');
  });
});

describe('plesk: a fix killed between its delete of the old SPF record and its add of the new one', { timeout: 180_000 }, () => {
  const D = 'alice.example';
  const OLD = 'v=spf1 +a +mx include:websitewelcome.com include:_spf.google.com ~all';
  const NEW = 'v=spf1 +a +mx include:_spf.google.com ~all';
  let dir = '';
  let pl: PleskState;
  let stopPanel: () => Promise<void> = async () => {};
  let dns: DnsServer | null = null;
  after(async () => {
    await stopPanel();
    await dns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What public DNS serves: the test world (its name servers on loopback) and the panel's zone as it is now. */
  const served = (): ServedZoneMap => {
    const m: ServedZoneMap = {};
    addZoneFile(m, WORLD.replace(/203\.0\.113\.5[34]/g, '127.0.0.1'), '');
    const text = recordsOf(pl, D)
      .map((r) => `${r.host} ${r.ttl} IN ${r.type} ${r.type === 'TXT' ? JSON.stringify(r.value) : r.type === 'MX' ? `${r.opt} ${r.value}` : r.value}`)
      .join('\n');
    addZoneFile(m, text, '');
    return m;
  };

  test('fix --apply (no --plan-hash) settles it first — the old record put back — then plans and applies: exit 0', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-fix-interrupted-'));
    writeFileSync(join(dir, 'empty.json'), '{}\n');
    const db = join(dir, 'h.sqlite');
    const f = serverFixture(
      [
        { name: D, ttl: 86400, type: 'NS', data: ['ns1.newhost.example.'] },
        { name: D, ttl: 86400, type: 'NS', data: ['ns2.newhost.example.'] },
        { name: D, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
        { name: D, ttl: 14400, type: 'MX', data: ['10', `mail.${D}.`] },
        { name: `mail.${D}`, ttl: 14400, type: 'A', data: ['203.0.113.10'] },
        { name: D, ttl: 14400, type: 'TXT', data: [OLD] },
      ],
      D,
    );
    pl = makePleskState(f);
    pl.outgoingMode = 'explicit-ip';
    pl.explicitIpv4 = SERVER.ips[0];
    const server = await startPleskServer(pl);
    stopPanel = () => server.close();
    dns = await startDnsServer({ data: served() });
    const cli = async (...args: string[]) => {
      const r = await runCli(['--panel', 'plesk', '--panel-url', server.url, '--resolver', dns!.address, '--authoritative-port', String(dns!.port), '--db', db, '--config', join(dir, 'empty.json'), ...args]);
      dns!.setData(served());
      return r;
    };
    // Run with the API key in the environment, as an admin runs it (never on the command line).
    process.env.MAILHEALTH_PANEL_TOKEN = pl.apiKey;

    // The fix that is killed: its plan, intent and lock, and the first of its two `plesk bin dns` steps (the delete).
    const rest = new PanelHttpClient({ baseUrl: server.url, headers: { 'x-api-key': pl.apiKey } });
    const panel = new PleskPanel({ rest, apiKey: pl.apiKey, cli: new PleskRestCli(rest), root: null });
    const resolver = createResolver({ servers: [dns.address], authoritativePort: dns.port, cache: false, timeoutMs: 1000, tries: 2 });
    const plan = await makePlan({ domain: D, check: 'spf' }, { panel, resolver });
    resolver.close();
    assert.deepEqual(plan.changes.map((c) => [c.action, c.before?.value, c.after?.value]), [['edit', OLD, NEW]]);
    const zone = await panel.readZone(D);
    const store = openStore(db);
    // Its lock's lease has run out (while it holds, the intent is left to it: the delete may still be under way).
    const id = store.recordIntent({ domain: D, check: 'spf', planHash: plan.planHash, zoneVersion: plan.zoneVersion, changes: withCopies(zone, plan.changes), byUser: 'root' });
    store.close();
    pl.records = pl.records.filter((r) => !(r.type === 'TXT' && r.value === OLD));
    dns.setData(served());

    try {
      const r = await cli('fix', D, '--check', 'spf', '--apply');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^applied/m);
      assert.match(r.stdout, /EDIT alice\.example TXT/);
      const spf = recordsOf(pl, D).filter((x) => x.type === 'TXT' && x.value.startsWith('v=spf1'));
      assert.deepEqual(spf.map((x) => x.value), [NEW], 'one SPF record, the fixed one');
      const hist = await cli('history', D, '--no-recheck', '--json');
      const changes = (JSON.parse(hist.stdout) as { changes: { id: number; status: string; error: string | null }[] }).changes;
      assert.deepEqual(changes.map((c) => [c.id, c.status]), [[id + 1, 'applied'], [id, 'restored']]);
      assert.match(changes[1].error ?? '', /partly written, old records restored/);
    } finally {
      delete process.env.MAILHEALTH_PANEL_TOKEN;
    }
  });
});
