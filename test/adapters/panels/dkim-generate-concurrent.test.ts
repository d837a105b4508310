// DKIM key generation while someone else edits the zone (QA q2 #2). cPanel's enable_dkim and Plesk's signing switch
// publish the server's key themselves; the adapters take that record back so only the fix's plan moves records. They
// take back only what the panel is known to write (its key record at `default._domainkey`, Plesk's `_domainkey`
// policy record): a key the customer adds or edits at another selector meanwhile stays, and the fix is refused
// ("the zone changed while the key was generated") instead of applied over a silently reverted edit.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { describeGeneratedDkim } from '../../../src/adapters/panels/cpanel/index.js';
import { undoGeneratedDkim } from '../../../src/adapters/panels/cpanel/zonefile.js';
import type { Zone, ZoneRecord } from '../../../src/core/model.js';
import { PanelError } from '../../../src/core/panel.js';
import { makePlan } from '../../../src/core/plans/index.js';
import { applyPlan } from '../../../src/core/plans/apply.js';
import { massEdit } from '../../helpers/emulators/cpanel.js';
import { addTxtAsCustomer, baseRecords, DOMAIN, makeRig, type Kind, type Rig } from '../../helpers/emulators/rig.js';
import { otherRsaKey, rsaKey } from '../../helpers/scenario.js';

const S1 = 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDSENDGRIDKEY';
const OLDG = 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDOLDGOOGLEKEY';
const NEWG = 'v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDNEWGOOGLEKEY';

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function dkimRig(kind: Kind, extra: { name: string; ttl: number; type: string; data: string[] }[] = []): Promise<Rig> {
  // No key on the server (Plesk: no key file, signing off), so the DKIM fix has the panel make the key.
  const r = await makeRig(kind, [...baseRecords(), { name: DOMAIN, ttl: 14400, type: 'TXT', data: ['v=spf1 +a +mx ~all'] }, ...extra], { noServerKey: true });
  rigs.push(r);
  return r;
}

/** Runs `edit` once, while the panel makes the key: after cPanel's ensure_dkim_keys_exist, as Plesk's domain_pref starts. */
function duringKeyStep(r: Rig, edit: () => void): () => boolean {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    edit();
  };
  r.hooks.api = (_m, f, when) => {
    if (f === 'ensure_dkim_keys_exist' && when === 'after') once();
  };
  r.hooks.cli = (u) => {
    if (u === 'domain_pref') once();
  };
  return () => done;
}

const refusedChanged = /The zone changed while the key was generated/;

describe('DKIM key generation: a key the customer adds at another selector meanwhile stays', () => {
  for (const kind of ['cpanel', 'whm', 'plesk'] as const) {
    it(`${kind}: s1._domainkey added during the key step is kept, the panel's own records are taken back, the fix refused`, async () => {
      const r = await dkimRig(kind);
      const plan = await makePlan({ domain: DOMAIN, check: 'dkim', options: {} }, r.deps());
      assert.deepEqual(plan.actions.map((a) => a.kind), ['generate-dkim']);
      const before = await r.records();
      const ran = duringKeyStep(r, () => addTxtAsCustomer(r, 's1._domainkey', S1));
      const out = await applyPlan({ domain: DOMAIN, check: 'dkim', planHash: plan.planHash }, r.deps());
      assert.ok(ran(), 'the customer edit ran');
      assert.equal(out.status, 'refused', JSON.stringify(out));
      assert.match((out as { reason: string }).reason, refusedChanged);
      // Exactly the customer's record is new: the panel's default._domainkey (and Plesk's _domainkey policy) are gone.
      const now = await r.records();
      assert.deepEqual(
        now.filter((x) => !before.includes(x)),
        [`s1._domainkey.${DOMAIN} TXT 3600 ${S1}`],
      );
      assert.deepEqual(before.filter((x) => !now.includes(x)), []);
      assert.ok(!r.store.changesForDomain(DOMAIN).some((c) => c.status === 'applied'), 'nothing recorded as applied');
    });
  }

  for (const kind of ['cpanel', 'whm'] as const) {
    it(`${kind}: google._domainkey updated in the Zone Editor (serial bumped) during the key step keeps its new key`, async () => {
      const r = await dkimRig(kind, [{ name: `google._domainkey.${DOMAIN}`, ttl: 3600, type: 'TXT', data: [OLDG] }]);
      const plan = await makePlan({ domain: DOMAIN, check: 'dkim', options: {} }, r.deps());
      const ran = duringKeyStep(r, () => {
        const cp = r.cp!;
        const z = cp.zones[DOMAIN];
        const line = z.lines.findIndex((l) => l?.kind === 'record' && l.dname === 'google._domainkey');
        const res = massEdit(cp, DOMAIN, [['zone', DOMAIN], ['serial', String(z.serial)], ['edit', JSON.stringify({ line_index: line, dname: 'google._domainkey', ttl: 3600, record_type: 'TXT', data: [NEWG] })]], null);
        assert.ok(res.ok);
      });
      const out = await applyPlan({ domain: DOMAIN, check: 'dkim', planHash: plan.planHash }, r.deps());
      assert.ok(ran());
      assert.equal(out.status, 'refused', JSON.stringify(out));
      assert.match((out as { reason: string }).reason, refusedChanged);
      const now = await r.records();
      assert.deepEqual(now.filter((x) => x.startsWith('google._domainkey')), [`google._domainkey.${DOMAIN} TXT 3600 ${NEWG}`]);
      assert.deepEqual(now.filter((x) => x.startsWith('default._domainkey')), [], "the panel's record is taken back");
    });
  }

  it('no edit meanwhile: the fix applies as before (the panel generates, the plan publishes its record)', async () => {
    for (const kind of ['cpanel', 'whm', 'plesk'] as const) {
      const r = await dkimRig(kind);
      const plan = await makePlan({ domain: DOMAIN, check: 'dkim', options: {} }, r.deps());
      const out = await applyPlan({ domain: DOMAIN, check: 'dkim', planHash: plan.planHash }, r.deps());
      assert.equal(out.status, 'applied', `${kind}: ${JSON.stringify(out)}`);
      const now = await r.records();
      assert.equal(now.filter((x) => x.startsWith(`default._domainkey.${DOMAIN} TXT`)).length, 1, `${kind}: ${now.join('\n')}`);
      assert.deepEqual(now.filter((x) => x.startsWith(`_domainkey.${DOMAIN} `)), [], `${kind}: no policy record left`);
    }
  });

  it("Plesk's start-signing path (domain_pref on a published key): only Plesk's _domainkey policy record is taken back", async () => {
    const r = await dkimRig('plesk');
    const key = `v=DKIM1; k=rsa; p=${r.pl!.dkim.publicKey}`;
    addTxtAsCustomer(r, 'default._domainkey', key, 300);
    const before = await r.records();
    const ran = duringKeyStep(r, () => addTxtAsCustomer(r, 's1._domainkey', S1));
    const s = await r.panel.startDkimSigning!(DOMAIN);
    assert.ok(ran());
    assert.equal(s.dkim.signing, true);
    const now = await r.records();
    assert.deepEqual(now.filter((x) => !before.includes(x)), [`s1._domainkey.${DOMAIN} TXT 3600 ${S1}`]);
    assert.deepEqual(before.filter((x) => !now.includes(x)), []);
  });
});

describe('undoGeneratedDkim: only what the panel is known to write', () => {
  const server = rsaKey().publicB64;
  const other = otherRsaKey().publicB64;
  const txt = (name: string, text: string, ref: string, ttl = 14400): ZoneRecord => ({ name: `${name}.${DOMAIN}`, ttl, type: 'TXT', value: text, txt: [text], ref });
  const zone = (records: ZoneRecord[], version = '1'): Zone => ({ domain: DOMAIN, serial: Number(version), records, version });
  const cpanel = { selector: 'default', publicKey: server, replacesKey: true };

  it("cPanel replaced the previous host's key in place: edited back on the same line, nothing else", () => {
    const old = txt('default._domainkey', `v=DKIM1; k=rsa; p=${other}`, '7', 3600);
    const mine = txt('default._domainkey', `v=DKIM1; k=rsa; p=${server};`, '7');
    const undo = undoGeneratedDkim(zone([old]), zone([mine], '2'), DOMAIN, cpanel);
    assert.deepEqual(undo.map((c) => [c.action, c.before?.ref, c.after?.value, c.after?.ttl]), [['edit', '7', old.value, 3600]]);
  });

  it('a record at the selector that does not carry the server key, and any other selector, are left alone', () => {
    const customer = txt('default._domainkey', `v=DKIM1; k=rsa; p=${other}`, '9');
    const s1 = txt('s1._domainkey', S1, '10');
    assert.deepEqual(undoGeneratedDkim(zone([]), zone([customer, s1], '2'), DOMAIN, cpanel), []);
    // A removed key at another selector is not put back either (it was not the panel's doing).
    const g = txt('google._domainkey', OLDG, '5');
    const mine = txt('default._domainkey', `v=DKIM1; k=rsa; p=${server};`, '11');
    assert.deepEqual(
      undoGeneratedDkim(zone([g]), zone([mine], '2'), DOMAIN, cpanel).map((c) => [c.action, c.name]),
      [['remove', `default._domainkey.${DOMAIN}`]],
    );
  });

  it('key not known: two new records with different keys at the selector → stale, nothing taken back', () => {
    const a = txt('default._domainkey', `v=DKIM1; k=rsa; p=${server};`, '11');
    const b = txt('default._domainkey', `v=DKIM1; k=rsa; p=${other}`, '12');
    assert.throws(
      () => undoGeneratedDkim(zone([]), zone([a, b], '2'), DOMAIN, { selector: 'default', replacesKey: true }),
      (e: unknown) => e instanceof PanelError && e.code === 'stale' && /which one the panel published cannot be told/.test(e.message),
    );
    // One new key record: the panel's, whatever its key.
    assert.deepEqual(undoGeneratedDkim(zone([]), zone([b], '2'), DOMAIN, { selector: 'default' }).map((c) => c.action), ['remove']);
  });

  it("Plesk: its _domainkey policy record is taken back, a customer's other TXT there is not; nothing it did not add is restored", () => {
    const plesk = { selector: 'default', publicKey: server, policy: true };
    const policy = txt('_domainkey', 'o=-', '21', 86400);
    const note = txt('_domainkey', 'verification=abc', '22');
    const gone = txt('default._domainkey', `v=DKIM1; k=rsa; p=${other}`, '3');
    const undo = undoGeneratedDkim(zone([gone]), zone([policy, note]), DOMAIN, plesk);
    assert.deepEqual(undo.map((c) => [c.action, c.name, c.before?.value]), [['remove', `_domainkey.${DOMAIN}`, 'o=-']]);
    // cPanel publishes no policy record: a new one there is not its own.
    assert.deepEqual(undoGeneratedDkim(zone([]), zone([policy]), DOMAIN, cpanel), []);
    // Said as what it is when it cannot be taken back: a policy record, not "this server's key".
    const mine = txt('default._domainkey', `v=DKIM1; k=rsa; p=${server}`, '20', 86400);
    assert.equal(
      describeGeneratedDkim(undoGeneratedDkim(zone([]), zone([mine, policy]), DOMAIN, plesk)),
      `added a TXT record at default._domainkey.${DOMAIN} with this server's key; added a TXT record at _domainkey.${DOMAIN} ("o=-")`,
    );
  });
});
