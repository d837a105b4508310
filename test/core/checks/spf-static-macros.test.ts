// The SPF check and fix on terms whose only macros are %{d} and %{o} (src/core/spf/tree.ts walks them as the name they
// expand to for the domain's own mail). Before, such a term was "evaluated per message":
//  - include:%{d}.<a name without SPF> after this server's IP was spf.ok, and the fix kept it — a permerror for every
//    other sender at pyspf and Mail::SPF (test/e2e/spf-static-macros-oracles.test.ts);
//  - a relay reached through include:%{d}._spf.<host> was "not authorised" (the walk did not follow it);
//  - include:%{d}._spf.<a previous host's name> was "uses macros" (unknown, kept): it is that host's record for the
//    domain, as surely as one written out;
//  - a previous host's term with %{d} in the domain's own record (redirect=_spf.%{o}) went unreported.
// The fix never rewrites such a term: it keeps it as written, or drops it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { Finding, MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { isUnanswered } from '../../../src/core/classify.js';
import { planSpf } from '../../../src/core/plans/spf.js';
import type { ZoneMap } from '../../helpers/map-resolver.js';
import { checkContext, SERVER_IP } from './context.js';

const D = 'macro.example';
const HOSTGATOR = { TXT: [['v=spf1 ip4:192.185.0.0/16 ~all']] };
const RELAY = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'newhostmc' } } as Partial<MailSettings>;
const show = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.rule}${f.fix ? ' fix' : ''} [${f.subject ?? ''}]: ${f.message}`).join('\n');

/** The domain publishing `records` (name → SPF text), with `more` names beside. */
function world(records: Record<string, string>, more: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const map: ZoneMap = {
    [D]: { A: [SERVER_IP], MX: [{ priority: 10, exchange: `mail.${D}` }] },
    [`mail.${D}`]: { A: [SERVER_IP] },
    'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 ip4:205.201.128.0/20 ~all']] },
    ...more,
  };
  for (const [name, text] of Object.entries(records)) map[name] = { ...(map[name] ?? {}), TXT: [[text]] };
  const zone: ZoneRecord[] = Object.entries(records).map(([name, text]) => ({ name, ttl: 3600, type: 'TXT', value: text, txt: [text], ref: `r:${name}` }));
  return { ctx: checkContext(D, map, settings, zone), zone };
}

async function run(records: Record<string, string>, more: ZoneMap = {}, settings: Partial<MailSettings> = {}) {
  const { ctx, zone } = world(records, more, settings);
  const fs = await spfCheck(ctx);
  const plan = fs.some((f) => f.fix === 'spf') ? await planSpf(ctx, zone, {}) : null;
  const after = plan?.changes.find((c) => c.after && c.after.name === D)?.after;
  return { fs, plan, after: after ? (after.txt ?? [after.value]).join('') : null };
}

describe('spf: terms with %{d} and %{o} only, judged as the name they expand to', () => {
  test('include:%{d}.<name without SPF> after the server\'s IP: a permerror for every other sender, reported; the fix drops it', async () => {
    const { fs, plan, after } = await run({ [D]: `v=spf1 ip4:${SERVER_IP} include:%{d}.nospf.example ~all` }, { [`${D}.nospf.example`]: { A: ['192.0.2.1'] } });
    assert.ok(!fs.some((f) => f.rule === 'spf.ok'), show(fs));
    const syntax = fs.find((f) => f.rule === 'spf.syntax' && f.subject === 'include:%{d}.nospf.example');
    assert.ok(syntax, show(fs));
    assert.equal(syntax.fix, 'spf');
    assert.match(syntax.message, /macro\.example\.nospf\.example has no SPF record \(receivers return permerror\)/);
    const unknown = fs.find((f) => f.rule === 'spf.unknown-term' && f.subject === 'include:%{d}.nospf.example');
    assert.match(unknown?.message ?? '', /^include:%\{d\}\.nospf\.example: macro\.example\.nospf\.example publishes no SPF record, so the include cannot work/, show(fs));
    assert.ok(plan && !plan.blocked, plan?.blocked);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`);
    assert.ok(plan.notes.some((n) => n === `Drops include:%{d}.nospf.example: ${D}.nospf.example publishes no SPF record, so every receiver's SPF check of this record fails (permerror).`), plan.notes.join('\n'));
  });

  test('a relay reached through include:%{d}._spf.<host> is authorised; the term is kept as written', async () => {
    const { fs, plan, after } = await run(
      { [D]: 'v=spf1 include:%{d}._spf.hoster.example ?all' },
      { [`${D}._spf.hoster.example`]: { TXT: [['v=spf1 include:relay.mailchannels.net ~all']] } },
      RELAY,
    );
    assert.ok(!fs.some((f) => f.rule === 'spf.server-not-authorized'), show(fs));
    // The fix is offered for ?all alone, and keeps the term with its macro.
    assert.ok(plan && !plan.blocked, plan?.blocked);
    assert.equal(after, 'v=spf1 include:%{d}._spf.hoster.example ~all');
  });

  test('include:%{d}._spf.<a previous host\'s name> is that host\'s record for the domain: a stale term the fix drops', async () => {
    const { fs, after } = await run({ [D]: `v=spf1 ip4:${SERVER_IP} include:%{d}._spf.websitewelcome.com ~all` }, { [`${D}._spf.websitewelcome.com`]: HOSTGATOR });
    const stale = fs.find((f) => f.subject === 'include:%{d}._spf.websitewelcome.com');
    assert.equal(stale?.rule, 'spf.stale-term', show(fs));
    assert.equal(stale.classification?.class, 'stale');
    assert.match(stale.message, /names macro\.example\._spf\.websitewelcome\.com for macro\.example's mail/);
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`);
  });

  test('redirect=_spf.%{o} is the domain\'s own record; a previous host\'s term there, with %{d} its own name, is reported', async () => {
    const own = `_spf.${D}`;
    const { fs } = await run(
      { [D]: `v=spf1 ip4:${SERVER_IP} redirect=_spf.%{o}`, [own]: 'v=spf1 include:%{d}.websitewelcome.com ~all' },
      { [`${own}.websitewelcome.com`]: HOSTGATOR },
    );
    const term = fs.find((f) => f.subject === 'redirect=_spf.%{o}');
    assert.match(term?.message ?? '', /_spf\.macro\.example is an SPF record of macro\.example's own/, show(fs));
    const stale = fs.filter((f) => f.rule === 'spf.stale-term');
    assert.deepEqual(stale.map((f) => f.subject), [`include:%{d}.websitewelcome.com (in ${own})`], show(fs));
    assert.match(stale[0].message, /_spf\.macro\.example\.websitewelcome\.com/);
  });

  test('include:%{d} is the record including itself: a loop, dropped', async () => {
    const { fs, after, plan } = await run({ [D]: `v=spf1 ip4:${SERVER_IP} include:%{d} ~all` });
    assert.ok(fs.some((f) => f.rule === 'spf.syntax' && f.subject === 'include:%{d}' && /loop/.test(f.message)), show(fs));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} ~all`, plan?.notes.join('\n'));
  });

  test('a term with another macro is still evaluated per message: classified unknown, kept', async () => {
    const { fs, after } = await run({ [D]: `v=spf1 ip4:${SERVER_IP} include:%{i}.%{d}.list.example ?all` });
    const t = fs.find((f) => f.subject === 'include:%{i}.%{d}.list.example');
    assert.match(t?.message ?? '', /uses macros: it is evaluated per message/, show(fs));
    assert.equal(after, `v=spf1 ip4:${SERVER_IP} include:%{i}.%{d}.list.example ~all`);
  });

  test('the classifier: a:%{d} is the domain\'s own a term (this server); one whose lookup got no answer stays unanswered', async () => {
    const { ctx } = world({ [D]: 'v=spf1 a:%{d} ~all' });
    const c = await ctx.classifier.spfTerm('a:%{d}');
    assert.equal(c.class, 'this-server', c.reason);
    assert.match(c.reason, /^it names macro\.example for macro\.example's mail — /);
    const { ctx: dark } = world({ [D]: 'v=spf1 a:%{o} ~all' }, { [D]: { A: 'TIMEOUT', MX: [{ priority: 10, exchange: `mail.${D}` }] } });
    const u = await dark.classifier.spfTerm('a:%{o}');
    assert.equal(u.class, 'unknown', u.reason);
    assert.equal(isUnanswered(u), true, 'nothing is concluded from it (the fix keeps the term and says to preview again)');
  });
});
