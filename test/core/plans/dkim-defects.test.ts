// DKIM plan defects found by QA: h= and t=y on the server's own key, and a CNAME-delegated selector when the
// domain's mail is handled elsewhere (or this server does not sign).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalKey } from '../../../src/core/classify.js';
import { parseDkimRecord } from '../../../src/core/dkim/record.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDkim } from '../../../src/core/plans/dkim.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext } from '../checks/context.js';

const D = 'd.example';
const NAME = `default._domainkey.${D}`;
const TARGET = 'default.d-example.dkim.mailhost.example';
const key = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const mine = key();
const theirs = key();
const split = (s: string) => (s.length > 250 ? [s.slice(0, 200), s.slice(200)] : [s]);
const txt = (value: string): ZoneRecord => ({ name: NAME, ttl: 3600, type: 'TXT', value, txt: split(value), ref: 'r:txt' });
const cname: ZoneRecord = { name: NAME, ttl: 3600, type: 'CNAME', value: `${TARGET}.`, ref: 'r:cname' };
const signs = (publicKey: string, signing = true): Partial<MailSettings> => ({ dkim: { selector: 'default', signing, publicKey } });

async function plan(records: ZoneRecord[], settings: Partial<MailSettings>, map: ZoneMap = {}) {
  return planDkim(checkContext(D, map, settings, records), records);
}
/** The one record the plan publishes, parsed. */
function published(p: Awaited<ReturnType<typeof plan>>) {
  const adds = p.changes.filter((c) => c.after);
  assert.equal(adds.length, 1, JSON.stringify(p));
  const after = adds[0].after!;
  for (const s of after.txt ?? []) assert.ok(Buffer.byteLength(s) <= 255);
  return parseDkimRecord(after.txt ?? [after.value]);
}

describe("DKIM fix: the server's own key published with flags that break it", () => {
  test('h=sha1 → republished without h= (the same key)', async () => {
    const p = await plan([txt(`v=DKIM1; k=rsa; h=sha1; p=${mine}`)], signs(mine));
    assert.equal(p.blocked, undefined);
    const rec = published(p);
    assert.equal(rec.hashes, undefined);
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(rec.warnings, []);
    assert.equal(canonicalKey(rec.publicKey!), canonicalKey(mine));
    assert.equal(p.changes[0].action, 'edit');
    assert.ok(p.notes.some((n) => /h=sha1/.test(n)), p.notes.join(' | '));
  });

  test('t=y → republished without t=y (the same key)', async () => {
    const p = await plan([txt(`v=DKIM1; k=rsa; t=y; p=${mine}`)], signs(mine));
    assert.equal(p.blocked, undefined);
    const rec = published(p);
    assert.equal(rec.testing, false);
    assert.equal(canonicalKey(rec.publicKey!), canonicalKey(mine));
    assert.ok(p.notes.some((n) => /t=y/.test(n)), p.notes.join(' | '));
  });

  test('h=sha256, h=sha1:sha256 and t=s are fine: nothing to change', async () => {
    for (const v of [`v=DKIM1; k=rsa; h=sha256; p=${mine}`, `v=DKIM1; k=rsa; h=sha1:sha256; p=${mine}`, `v=DKIM1; k=rsa; t=s; p=${mine}`]) {
      const p = await plan([txt(v)], signs(mine));
      assert.deepEqual(p.changes, [], v);
      assert.equal(p.blocked, undefined, v);
    }
  });
});

describe('DKIM fix: a selector delegated by CNAME', () => {
  const provider: ZoneMap = { [TARGET]: { TXT: [split(`v=DKIM1; k=rsa; p=${theirs}`)] } };

  test("mail routed elsewhere, the CNAME's target publishes another key → blocked like a TXT key, nothing changed", async () => {
    const p = await plan([cname], { routing: 'remote', ...signs(mine) }, provider);
    assert.deepEqual(p.changes, []);
    assert.match(p.blocked ?? '', new RegExp(`alias of ${TARGET.replace(/\./g, '\\.')}`));
    assert.match(p.blocked ?? '', /handled elsewhere/);
    assert.match(p.blocked ?? '', /would break that mail/);
  });

  test('signing off (local routing), the CNAME points at another key → blocked', async () => {
    const p = await plan([cname], signs(mine, false), provider);
    assert.deepEqual(p.changes, []);
    assert.match(p.blocked ?? '', /signing is off/);
  });

  test("mail routed elsewhere, the CNAME's target cannot be read → blocked until DNS answers", async () => {
    const p = await plan([cname], { routing: 'remote', ...signs(mine) }, { [TARGET]: { TXT: 'TIMEOUT' } });
    assert.deepEqual(p.changes, []);
    assert.match(p.blocked ?? '', /could not be read/);
  });

  test('mail routed elsewhere, a dangling CNAME (no key behind it) → replaced by the server key, as dkim.missing offers', async () => {
    const p = await plan([cname], { routing: 'remote', ...signs(mine) }, {});
    assert.equal(p.blocked, undefined);
    assert.deepEqual(p.changes.map((c) => `${c.action} ${c.type}`).sort(), ['add TXT', 'remove CNAME']);
  });

  test("this server signs and mail is here: a CNAME to another key is still replaced (the previous host's)", async () => {
    const p = await plan([cname], signs(mine), provider);
    assert.equal(p.blocked, undefined);
    assert.equal(canonicalKey(published(p).publicKey!), canonicalKey(mine));
  });
});
