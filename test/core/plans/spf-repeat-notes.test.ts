// QA: `fix` removed a repeated include:relay.mailchannels.net with no note at all, while the check said spf.ok. Every
// change the SPF plan makes now has a note — a repeated term within a record, a term two merged records share, a later
// all term, the later copy left when the fix writes a term earlier — and the check says the repeat too (info on the
// term: spf.ok stays, the record works).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext } from '../checks/context.js';

const D = 'twice.example';
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;

function setup(records: string[], settings: Partial<MailSettings> = RELAY) {
  const map: ZoneMap = { ...SPF_QA_WORLD, [D]: { MX: [{ priority: 10, exchange: 'server1.newhost.example' }], TXT: records.map((r) => [r]) } };
  const zone: ZoneRecord[] = records.map((value, i) => ({ name: D, ttl: 3600, type: 'TXT', value, txt: [value], ref: `spf:${i}` }));
  return { ctx: checkContext(D, map, settings, zone), zone };
}

async function plan(records: string[], settings: Partial<MailSettings> = RELAY) {
  const { ctx, zone } = setup(records, settings);
  const p = await planSpf(ctx, zone, {});
  const after = p.changes.find((c) => c.after)?.after?.value ?? null;
  return { p, after, show: `after: ${after}\nblocked: ${p.blocked}\n${p.notes.join('\n')}` };
}

describe('SPF fix: every change has a note', () => {
  test('a repeated include in one record: dropped, and said (it costs a lookup)', async () => {
    const { p, after, show } = await plan(['v=spf1 include:relay.mailchannels.net include:relay.mailchannels.net -all']);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -all', show);
    assert.deepEqual(p.notes, [
      'Drops the repeated include:relay.mailchannels.net: the record lists it more than once, and only the first can match (each repeat costs receivers another DNS lookup, counted toward the limit of 10).',
    ]);
  });

  test('a repeated ip4 term: said without a lookup cost', async () => {
    const { p, after, show } = await plan(['v=spf1 ip4:198.51.100.7 include:relay.mailchannels.net ip4:198.51.100.7 -all']);
    assert.equal(after, 'v=spf1 ip4:198.51.100.7 include:relay.mailchannels.net -all', show);
    assert.deepEqual(p.notes, ['Drops the repeated ip4:198.51.100.7: the record lists it more than once, and only the first can match.']);
  });

  test('a second all term after the first: dropped, and said', async () => {
    const { p, after, show } = await plan(['v=spf1 include:relay.mailchannels.net ~all -all']);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net ~all', show);
    assert.deepEqual(p.notes, ['Drops -all: it stood after ~all, where receivers never evaluate it.']);
  });

  test('a term two merged records share: one kept, and said', async () => {
    const { p, show } = await plan(['v=spf1 mx include:relay.mailchannels.net -all', 'v=spf1 mx -all']);
    assert.ok(p.notes.includes('Keeps one mx: more than one of the SPF records lists it.'), show);
  });

  test('a relay include with "~" made plain beside a plain copy: the later copy goes, and is said', async () => {
    const { p, after, show } = await plan(['v=spf1 ~include:relay.mailchannels.net include:relay.mailchannels.net -all']);
    assert.equal(after, 'v=spf1 include:relay.mailchannels.net -all', show);
    assert.ok(p.notes.some((n) => n.startsWith('Replaces ~include:relay.mailchannels.net with include:relay.mailchannels.net')), show);
    assert.ok(p.notes.includes('Drops the later include:relay.mailchannels.net: the record now has it earlier, where it decides first.'), show);
  });
});

describe('SPF check: a repeated term is said (the fix drops it)', () => {
  test('the include listed twice: the term\'s finding says so, once; spf.ok stays', async () => {
    const fs = await spfCheck(setup(['v=spf1 include:relay.mailchannels.net include:relay.mailchannels.net -all']).ctx);
    const show = fs.map((f) => `${f.severity} ${f.rule} ${f.subject ?? ''} | ${f.message}`).join('\n');
    const own = fs.filter((f) => f.subject === 'include:relay.mailchannels.net');
    assert.equal(own.length, 1, show);
    assert.match(own[0].message, /is listed twice: only the first can match, and each repeat costs receivers another DNS lookup\. The SPF fix keeps one\./);
    assert.ok(fs.some((f) => f.rule === 'spf.ok'), show);
  });
});
