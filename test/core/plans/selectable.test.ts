// Plan.selectable: the terms a plan's words offer for removal, set by core where those words are written — so a surface
// (the CLI's --remove-term line) follows what core offers, not a reading of its wording.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planLockdown } from '../../../src/core/plans/lockdown.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import { startPlay, type Play } from '../../helpers/fixplay.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { SPF_QA_WORLD } from '../../helpers/spf-qa-world.js';
import { checkContext, SERVER_IP } from '../checks/context.js';

let play: Play | null = null;
afterEach(async () => {
  await play?.close();
  play = null;
});

const D = 'shop.example';
const OWN = ['a:h1.newhost.example', 'a:h2.newhost.example', 'a:h3.newhost.example', 'a:h4.newhost.example', 'a:h5.newhost.example', 'a:h6.newhost.example', 'a:h7.newhost.example'];

async function spfPlan(spf: string, extra: ZoneMap = {}) {
  const map: ZoneMap = { ...SPF_QA_WORLD, [D]: { A: [SERVER_IP], MX: [{ priority: 1, exchange: 'aspmx.l.google.com' }], TXT: [[spf]] }, 'aspmx.l.google.com': { A: ['142.250.27.26'] }, ...extra };
  const zone: ZoneRecord[] = [
    { name: D, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    { name: D, ttl: 3600, type: 'TXT', value: spf, txt: [spf], ref: 'spf' },
  ];
  return planSpf(checkContext(D, map, {}, zone), zone, {});
}

const LD = 'cust.example';
const MC = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
async function lockdownPlan(text: string) {
  const name = `_mailchannels.${LD}`;
  const map: ZoneMap = { [LD]: { NS: ['ns1.newhost.example'] }, 'ns1.newhost.example': { A: ['127.0.0.1'] }, [name]: { TXT: [[text]] } };
  const zone: ZoneRecord[] = [
    { name: LD, ttl: 3600, type: 'NS', value: 'ns1.newhost.example.', ref: 'ns' },
    { name, ttl: 3600, type: 'TXT', value: text, txt: [text], ref: 'l0' },
  ];
  return planLockdown(checkContext(LD, map, MC, zone), zone, {});
}

describe('Plan.selectable: the terms the plan offers for removal, as data', () => {
  test('SPF blocked over 10 lookups until a mail service’s term is selected: the services’ terms the block names (Google’s include, +mx naming its MX)', async () => {
    const own = Object.fromEntries(OWN.map((t) => [t.slice(2), { A: [SERVER_IP] }]));
    const p = await spfPlan(`v=spf1 +a +mx ${OWN.join(' ')} include:_spf.google.com ~all`, own);
    assert.match(p.blocked ?? '', /select its term for removal/, p.blocked);
    assert.deepEqual(p.selectable, ['include:_spf.google.com', '+mx'], p.blocked);
    for (const t of p.selectable ?? []) assert.ok(p.blocked?.includes(t), `${t} not in: ${p.blocked}`);
  });

  test('SPF that offers nothing: no selectable', async () => {
    const p = await spfPlan('v=spf1 +a include:_spf.google.com ~all');
    assert.equal(p.selectable, undefined, p.notes.join('\n'));
  });

  test('lockdown: an id nobody could place is kept, and offered (its note says "Select it for removal")', async () => {
    const p = await lockdownPlan('v=mc1 auth=acme-emailapi');
    assert.ok(p.notes.some((n) => n.startsWith('Keeps auth=acme-emailapi: ') && /Select it for removal/.test(n)), p.notes.join('\n'));
    assert.deepEqual(p.selectable, ['auth=acme-emailapi']);
  });

  test('lockdown with only this host’s id: nothing offered', async () => {
    const p = await lockdownPlan('v=mc1 auth=newhostmc');
    assert.equal(p.selectable, undefined, p.notes.join('\n'));
  });

  test('SPF published elsewhere: the kept +a and +mx its notes offer, carried to the plan (makePlan)', async () => {
    play = await startPlay();
    const plan = await play.plan('lawyer.example', 'spf');
    assert.equal(plan.mode, 'publish-elsewhere');
    for (const raw of ['+a', '+mx']) assert.ok(plan.notes.some((n) => n.startsWith(`Keeps ${raw}: `) && n.endsWith(`select ${raw} for removal.`)), plan.notes.join('\n'));
    assert.deepEqual(plan.selectable, ['+a', '+mx']);
  });
});
