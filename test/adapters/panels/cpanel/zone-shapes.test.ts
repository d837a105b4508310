// parse_zone answers of a shape cPanel's parser never gives (QA h3 D13, D15): a record item without record_type,
// data_b64, dname_b64, ttl or line_index, base64 that is not, a list that is no list, an item that is null. The zone
// read fails with a PanelError that says which — never a record hidden, blanked, moved to the apex or given a made-up
// TTL (QA: the SPF fix then planned an `add` and the zone got two SPF records), never a raw JavaScript error as a
// finding's text. What cPanel does give stays readable: comment and `$TTL` control lines (skipped), a TTL as digits.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { decodeZone, massEditError } from '../../../../src/adapters/panels/cpanel/zonefile.js';
import { PanelError } from '../../../../src/core/panel.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { DOMAIN, frontWorld, migratedRecords, rewrite, type World } from './front.js';

const Z = 'example.com';
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
const soa = { line_index: 2, type: 'record', record_type: 'SOA', ttl: 86400, dname_b64: b64('example.com.'), data_b64: ['ns1.example.net.', 'hostmaster.example.com.', '2024061100', '3600', '1800', '1209600', '86400'].map(b64) };
const spf = () => ({ line_index: 4, type: 'record', record_type: 'TXT', ttl: 14400, dname_b64: b64('example.com.'), data_b64: [b64('v=spf1 +a +mx ~all')] }) as Record<string, unknown>;

function throwsShape(items: unknown, re: RegExp): void {
  assert.throws(
    () => decodeZone(Z, items, `cPanel's answer to DNS::parse_zone for ${Z}`),
    (e: unknown) => {
      assert.ok(e instanceof PanelError, `a PanelError, not ${String(e)}`);
      assert.equal(e.code, 'other');
      assert.match(e.message, /^cPanel's answer to DNS::parse_zone for example\.com had an unexpected shape: /);
      assert.match(e.message, re);
      return true;
    },
  );
}

describe('decodeZone: an item cPanel never gives fails the read, naming it', () => {
  it('what cPanel gives reads: comment and control lines skipped, a TTL as digits, a record without one nowhere', () => {
    const z = decodeZone(Z, [
      { line_index: 0, type: 'comment', text_b64: b64('; cPanel first:11.120') },
      { line_index: 1, type: 'control', text_b64: b64('$TTL 14400') },
      soa,
      { ...spf(), ttl: '3600' },
    ]);
    assert.equal(z.serial, 2024061100);
    assert.deepEqual(
      z.records.map((r) => `${r.name} ${r.type} ${r.ttl} ${r.value} @${r.ref}`),
      ['example.com SOA 86400 ns1.example.net hostmaster.example.com 2024061100 3600 1800 1209600 86400 @2', 'example.com TXT 3600 v=spf1 +a +mx ~all @4'],
    );
  });

  it('a record without record_type, data_b64, dname_b64, ttl or line_index', () => {
    const without = (k: string) => {
      const it = spf();
      delete it[k];
      return [soa, it];
    };
    throwsShape(without('record_type'), /the record on line 5 has no record_type/);
    throwsShape(without('data_b64'), /the TXT record on line 5 has no data \(data_b64 missing\)/);
    throwsShape(without('dname_b64'), /the TXT record on line 5 has no owner name \(dname_b64 missing\)/);
    throwsShape(without('ttl'), /the TXT record on line 5 has no TTL \(ttl missing\)/);
    throwsShape(without('line_index'), /item 2, a record, has no line_index/);
  });

  it('base64 that is not, an empty owner, a TTL that is no number, data that is no list', () => {
    throwsShape([soa, { ...spf(), data_b64: ['%%% not base64 %%%'] }], /the TXT record on line 5 has no data \(data_b64 not base64\)/);
    // The SOA's fields as plain text (not base64): not read as a serial of some kind.
    throwsShape([{ ...soa, data_b64: ['ns1.example.net.', 'hostmaster.example.com.', '2024061100', '3600', '1800', '1209600', '86400'] }], /the SOA record on line 3 has no data \(data_b64 not base64\)/);
    throwsShape([soa, { ...spf(), dname_b64: '' }], /has no owner name \(dname_b64 not base64\)/);
    throwsShape([soa, { ...spf(), ttl: 'soon' }], /has no TTL \(ttl "soon"\)/);
    throwsShape([soa, { ...spf(), ttl: -1 }], /has no TTL \(ttl -1\)/);
    throwsShape([soa, { ...spf(), data_b64: b64('v=spf1 -all') }], /has no data \(data_b64 not a list\)/);
  });

  it('no list, or an item that is no record (QA: "(items ?? []) is not iterable", "Cannot read properties of null")', () => {
    throwsShape({ unexpected: true }, /object instead of a list of records/);
    throwsShape(null, /no list of records/);
    throwsShape([soa, null], /item 2 is null, not a record/);
    throwsShape([soa, 'record'], /item 2 is string, not a record/);
    throwsShape([soa, { ...spf(), type: 'entry' }], /item 2 has type "entry", not record, comment or control/);
  });
});

describe('massEditError: a refusal in the words of the panel that refused (QA h3 D15/16)', () => {
  it('WHM says WHM; a by_line of another shape is left out, never a JavaScript error', () => {
    assert.match(massEditError(Z, null, ['You may not edit this zone.'], 'WHM').message, /^WHM refused the zone edit for example\.com: You may not edit this zone\.$/);
    const e = massEditError(Z, { type: 'InvalidZoneFile', detail: { by_line: 'line 3 is bad' } }, ['The zone is invalid.'], 'WHM');
    assert.equal(e.code, 'invalid-zone');
    assert.equal(e.message, 'WHM rejected the edited zone example.com; nothing was changed (The zone is invalid.)');
    assert.match(massEditError(Z, { type: 'InvalidZoneFile', detail: { by_line: [[2, 'bad TTL'], null] } }, []).message, /^cPanel rejected the edited zone example\.com; nothing was changed \(line 3: bad TTL\)$/);
  });
});

describe('cPanel adapter: a parse_zone answer missing a field is no zone (QA h3 D13)', () => {
  let w: World | null = null;
  afterEach(async () => {
    await w?.close();
    w = null;
  });
  const isSpf = (it: any) => it?.record_type === 'TXT' && (it.data_b64 ?? []).some((d: string) => Buffer.from(d, 'base64').toString().startsWith('v=spf1'));

  for (const [what, edit] of [
    ['without data_b64', (it: any) => delete it.data_b64],
    ['without record_type', (it: any) => delete it.record_type],
    ['with data_b64 not base64', (it: any) => (it.data_b64 = ['%%% not base64 %%%'])],
  ] as const) {
    it(`the SPF record ${what}: the zone is unreadable (unknown finding), no SPF plan, the zone keeps one SPF record`, async () => {
      w = await frontWorld(migratedRecords(), [{ fn: 'DNS::parse_zone', answer: rewrite((j) => j.data.filter(isSpf).forEach(edit)) }]);
      const a = await w.audit();
      const unreadable = a.findings.find((f) => f.rule === 'dns.panel-zone-unreadable');
      assert.ok(unreadable, `dns.panel-zone-unreadable expected: ${a.findings.map((f) => f.rule).join(', ')}`);
      assert.equal(unreadable.severity, 'unknown');
      assert.match(unreadable.message, /cPanel's answer to DNS::parse_zone for alice\.example had an unexpected shape: .*TXT record on line|has no record_type/);
      const plan = await makePlan({ domain: DOMAIN, check: 'spf' }, { panel: w.panel, resolver: w.resolver }).catch((e: Error) => e);
      assert.ok(plan instanceof Error, `no plan on a zone that could not be read: ${plan instanceof Error ? '' : JSON.stringify(plan.changes)}`);
      assert.equal((await w.records()).filter((r) => / TXT \d+ v=spf1/.test(r)).length, 1);
    });
  }

  it('the DKIM record without dname_b64 is not read as a record at the apex', async () => {
    w = await frontWorld(migratedRecords(), [{ fn: 'DNS::parse_zone', answer: rewrite((j) => j.data.filter((it: any) => it?.dname_b64 === b64('default._domainkey')).forEach((it: any) => delete it.dname_b64)) }]);
    await assert.rejects(w.panel.readZone(DOMAIN), (e: unknown) => e instanceof PanelError && /TXT record on line \d+ has no owner name \(dname_b64 missing\)/.test(e.message));
  });

  it('data an object or a list of nulls: a PanelError in words, not a JavaScript error', async () => {
    for (const data of [{ unexpected: true }, [null]]) {
      w = await frontWorld(migratedRecords(), [{ fn: 'DNS::parse_zone', answer: rewrite((j) => ({ ...j, data })) }]);
      const f = (await w.audit()).findings.find((x) => x.rule === 'dns.panel-zone-unreadable');
      assert.match(f?.message ?? '', /had an unexpected shape: (object instead of a list of records|item 1 is null, not a record)$/);
      assert.doesNotMatch(f?.message ?? '', /is not iterable|Cannot read properties/);
      await w.close();
      w = null;
    }
  });
});
