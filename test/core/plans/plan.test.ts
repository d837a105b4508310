// Plan building blocks: what each fix owns, the ownership guard, the plan hash, replaceWithOne.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Change, ZoneRecord } from '../../../src/core/model.js';
import { hashPlan, ownedNames, ownershipProblem, replaceWithOne } from '../../../src/core/plans/plan.js';

const rec = (name: string, type: string, value: string, ref?: string, ttl = 3600): ZoneRecord => ({ name, ttl, type, value, ...(type === 'TXT' ? { txt: [value] } : {}), ...(ref ? { ref } : {}) });
const edit = (before: ZoneRecord, after: ZoneRecord): Change => ({ action: 'edit', name: before.name, type: before.type, ttl: before.ttl, before, after });

describe('ownership', () => {
  test('each fix owns only its names', () => {
    assert.deepEqual(ownedNames('spf', 'a.example', 'default'), [{ name: 'a.example', types: ['TXT'] }]);
    assert.deepEqual(ownedNames('dkim', 'a.example', 's1'), [{ name: 's1._domainkey.a.example', types: ['TXT', 'CNAME'] }]);
    assert.deepEqual(ownedNames('lockdown', 'a.example', 'default'), [{ name: '_mailchannels.a.example', types: ['TXT', 'CNAME'] }]); // a CNAME: read as the alias it is (publish elsewhere)
    assert.equal(ownedNames('dmarc', 'a.example', 'default')[0].name, '_dmarc.a.example');
  });

  test('the guard refuses anything else, and a non-SPF apex TXT for the SPF fix', () => {
    const spf = rec('a.example', 'TXT', 'v=spf1 mx ~all', '9-9');
    assert.equal(ownershipProblem('spf', 'a.example', 'default', [edit(spf, rec('a.example', 'TXT', 'v=spf1 mx -all'))]), null);
    assert.match(ownershipProblem('spf', 'a.example', 'default', [edit(rec('a.example', 'MX', '10 mx.a.example', '3-3'), rec('a.example', 'MX', '10 mx2.a.example'))])!, /may not change/);
    assert.match(ownershipProblem('spf', 'a.example', 'default', [edit(rec('a.example', 'TXT', 'google-site-verification=x', '4-4'), spf)])!, /non-SPF TXT/);
    assert.match(ownershipProblem('dmarc', 'a.example', 'default', [edit(rec('_mailchannels.a.example', 'TXT', 'v=mc1 auth=x', '5-5'), rec('_mailchannels.a.example', 'TXT', 'v=mc1 auth=y'))])!, /may not change/);
    assert.match(ownershipProblem('dkim', 'a.example', 'default', [edit(rec('other._domainkey.a.example', 'TXT', 'v=DKIM1; p=x', '6-6'), rec('other._domainkey.a.example', 'TXT', 'v=DKIM1; p=y'))])!, /may not change/);
  });
});

describe('hashPlan', () => {
  const before = rec('a.example', 'TXT', 'v=spf1 mx ~all', '9-9');
  const base = { domain: 'a.example', check: 'spf' as const, mode: 'apply' as const, changes: [edit(before, rec('a.example', 'TXT', 'v=spf1 mx -all'))], actions: [], zoneVersion: 'sha256:aa', options: {} };
  test('stable, and sensitive to the zone version, the changes, the options and the mode', () => {
    assert.equal(hashPlan(base), hashPlan({ ...base }));
    assert.match(hashPlan(base), /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(hashPlan(base), hashPlan({ ...base, zoneVersion: 'sha256:bb' }));
    assert.notEqual(hashPlan(base), hashPlan({ ...base, changes: [edit(before, rec('a.example', 'TXT', 'v=spf1 mx ?all'))] }));
    assert.notEqual(hashPlan(base), hashPlan({ ...base, options: { removeTerms: ['mx'] } }));
    assert.notEqual(hashPlan(base), hashPlan({ ...base, mode: 'publish-elsewhere' }));
    assert.notEqual(hashPlan(base), hashPlan({ ...base, changes: [edit({ ...before, ref: '10-10' }, rec('a.example', 'TXT', 'v=spf1 mx -all'))] }));
    // removeTerms order does not matter.
    assert.equal(hashPlan({ ...base, options: { removeTerms: ['a', 'b'] } }), hashPlan({ ...base, options: { removeTerms: ['b', 'a'] } }));
  });
});

describe('replaceWithOne', () => {
  const desired = rec('a.example', 'TXT', 'v=spf1 mx ~all');
  test('already exactly one right record → no change', () => {
    assert.deepEqual(replaceWithOne([rec('a.example', 'TXT', 'v=spf1 mx ~all', '1-1')], desired), []);
  });
  test('the right record plus a duplicate → remove the duplicate only', () => {
    const ok = rec('a.example', 'TXT', 'v=spf1 mx ~all', '1-1');
    const dup = rec('a.example', 'TXT', 'v=spf1 a ~all', '2-2');
    assert.deepEqual(
      replaceWithOne([dup, ok], desired).map((c) => [c.action, c.before?.ref]),
      [['remove', '2-2']],
    );
  });
  test('a wrong record → edit in place keeping its TTL; none → add; desired null → remove all', () => {
    const old = rec('a.example', 'TXT', 'v=spf1 a ~all', '1-1', 300);
    const [c] = replaceWithOne([old], desired);
    assert.equal(c.action, 'edit');
    assert.equal(c.after!.ttl, 300);
    assert.deepEqual(
      replaceWithOne([], desired).map((x) => x.action),
      ['add'],
    );
    assert.deepEqual(
      replaceWithOne([old, rec('a.example', 'TXT', 'x', '2-2')], null).map((x) => x.action),
      ['remove', 'remove'],
    );
  });
  test('the right text stored as one string over 255 bytes is re-split (edit)', () => {
    const long = 'v=spf1 ' + Array.from({ length: 20 }, (_, i) => `ip4:198.18.${i}.0/24`).join(' ') + ' ~all';
    const stored: ZoneRecord = { name: 'a.example', ttl: 3600, type: 'TXT', value: long, txt: [long], ref: '1-1' };
    const want: ZoneRecord = { name: 'a.example', ttl: 3600, type: 'TXT', value: long, txt: [long.slice(0, 200), long.slice(200)] };
    assert.deepEqual(
      replaceWithOne([stored], want).map((c) => c.action),
      ['edit'],
    );
  });
});
