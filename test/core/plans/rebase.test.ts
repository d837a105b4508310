// The shared-zone rules of a bulk fix (core/plans/rebase.ts): a chain of the bulk's own writes from the previewed zone
// version to the current one, with nothing else in between; and "the same changes" between a previewed and a fresh
// plan, a record's line reference aside.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change, ZoneRecord } from '../../../src/core/model.js';
import type { Plan } from '../../../src/core/plans/plan.js';
import { chainLeads, sameChanges, type ZoneWrite } from '../../../src/core/plans/rebase.js';

const zoneOf = async (d: string) => (d.endsWith('alice.example') ? 'alice.example' : d.endsWith('zed.example') ? 'zed.example' : null);

test('chainLeads: own writes lead from the previewed version to now, in any order; a gap or another zone breaks it', async () => {
  const w = (domain: string, before: string | null, after: string | null): ZoneWrite => ({ domain, before, after });
  const own = [w('shop.alice.example', '2', '3'), w('alice.example', '1', '2')];
  assert.equal(await chainLeads(own, 'alice.example', '1', '3', zoneOf), true, 'followed by version, not by order');
  assert.equal(await chainLeads(own, 'alice.example', '1', '4', zoneOf), false, 'a version no write of this bulk made');
  assert.equal(await chainLeads([w('alice.example', '1', '2'), w('blog.alice.example', '5', '6')], 'alice.example', '1', '6', zoneOf), false, 'a foreign edit between 2 and 5');
  assert.equal(await chainLeads([w('a.zed.example', '1', '2')], 'alice.example', '1', '2', zoneOf), false, 'the same serials in another zone');
  assert.equal(await chainLeads([w('alice.example', '1', null)], 'alice.example', '1', '2', zoneOf), false, 'a write with no version after');
  assert.equal(await chainLeads([w('alice.example', '1', '2'), w('alice.example', '1', '2')], 'alice.example', '1', '2', zoneOf), true);
  assert.equal(await chainLeads([], 'alice.example', '7', '7', zoneOf), true, 'nothing moved');
});

test('sameChanges: the line reference aside, every part of a change counts', () => {
  const rec = (value: string, ref: string, ttl = 3600): ZoneRecord => ({ name: 'blog.alice.example', ttl, type: 'TXT', value, txt: [value], ref });
  const change = (before: ZoneRecord | null, after: ZoneRecord | null): Change => ({ action: before ? 'edit' : 'add', name: 'blog.alice.example', type: 'TXT', ttl: 3600, before, after });
  const plan = (changes: Change[], extra: Partial<Plan> = {}): Plan => ({ domain: 'blog.alice.example', check: 'spf', mode: 'apply', changes, actions: [], zoneVersion: '1', planHash: 'x', notes: [], options: {}, ...extra });
  const a = plan([change(rec('v=spf1 a -all', 'line:10'), rec('v=spf1 a mx -all', 'line:10'))]);
  assert.equal(sameChanges(a, plan([change(rec('v=spf1 a -all', 'line:11'), rec('v=spf1 a mx -all', 'line:11'))], { zoneVersion: '2', planHash: 'y' })), true, 'a line moved by the parent\'s write above');
  assert.equal(sameChanges(a, plan([change(rec('v=spf1 a -all', 'line:10'), rec('v=spf1 a mx ~all', 'line:10'))])), false, 'another record after');
  assert.equal(sameChanges(a, plan([change(rec('v=spf1 a -all', 'line:10', 300), rec('v=spf1 a mx -all', 'line:10'))])), false, 'another TTL before');
  assert.equal(sameChanges(a, plan(a.changes, { options: { removeTerms: ['include:x.example'] } })), false, 'other selected terms');
  assert.equal(sameChanges(a, plan(a.changes, { mode: 'publish-elsewhere' })), false, 'another mode');
  assert.equal(sameChanges(a, plan(a.changes, { actions: [{ kind: 'start-signing' } as unknown as Plan['actions'][number]] })), false, 'an action more');
});
