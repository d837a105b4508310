// Review of the day's DMARC and SPF changes (2026-11-28): each test pins a defect the reviewer reproduced.
//  - the DMARC fix's note for `p=reject; sp=block; rua=…` repeated the probe record's own "no valid rua" error, and did
//    not say that dropping sp= makes the written p=reject apply (RFC 7489 receivers read the record as p=none today);
//  - a record with a space before v=DMARC1 and p=reject was repaired as p=none (the lower-case version kept its policy);
//  - dmarc.inherited said receivers "cannot read" a subdomain's `v=dmarc1; …` record that lenient ones apply;
//  - the SPF "relay's ranges copied" message claimed the relay's addresses while part of its record got no answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dmarcCheck } from '../../../src/core/checks/dmarc.js';
import { spfCheck } from '../../../src/core/checks/spf.js';
import type { MailSettings, ZoneRecord } from '../../../src/core/model.js';
import { planDmarc } from '../../../src/core/plans/dmarc.js';
import { checkContext } from '../checks/context.js';

function dmarcAt(domain: string, txt: string, world: Record<string, unknown> = {}) {
  const name = `_dmarc.${domain}`;
  const zone: ZoneRecord[] = [{ name, ttl: 3600, type: 'TXT', value: txt, txt: [txt], ref: 'd' }];
  const ctx = checkContext(domain, { [domain]: { NS: ['ns1.newhost.example', 'ns2.newhost.example'] }, [name]: { TXT: [[txt]] }, ...world } as never, {}, zone);
  return { ctx, zone };
}

describe('DMARC fix: an invalid sp= beside p=reject', () => {
  test('the note names why sp= goes, not the probe record\'s missing rua, and says p=reject then applies', async () => {
    const { ctx, zone } = dmarcAt('sp-bad.example.net', 'v=DMARC1; p=reject; sp=block; rua=mailto:dmarc@sp-bad.example.net');
    const plan = await planDmarc(ctx, zone);
    const text = plan.notes.join('\n');
    assert.ok(!/no valid rua/.test(text), text);
    assert.match(text, /Drops sp=block: invalid sp=block/);
    assert.match(text, /receivers following RFC 7489 apply it as p=none today: with sp= dropped its p=reject applies/);
    assert.equal(plan.changes.find((c) => c.after)?.after?.value, 'v=DMARC1; p=reject; rua=mailto:dmarc@sp-bad.example.net');
  });
});

describe('DMARC fix: whitespace before v=DMARC1', () => {
  test('the repair keeps p=reject, as for a version in lower case', async () => {
    const { ctx, zone } = dmarcAt('lead.example.net', ' v=DMARC1; p=reject; rua=mailto:d@lead.example.net');
    const plan = await planDmarc(ctx, zone);
    assert.equal(plan.blocked, undefined, plan.notes.join('\n'));
    assert.equal(plan.changes.find((c) => c.after)?.after?.value, 'v=DMARC1; p=reject; rua=mailto:d@lead.example.net', plan.notes.join('\n'));
    assert.match(plan.notes.join('\n'), /starts with whitespace before v=DMARC1.*keeps its p=reject/);
  });
});

describe('dmarc.inherited: a subdomain record whose version is in lower case', () => {
  test('said to be applied by lenient receivers, not simply unreadable', async () => {
    const fs = await dmarcCheck(checkContext('shop.example.com', { '_dmarc.shop.example.com': { TXT: [['v=dmarc1; p=none']] }, '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject']] } }));
    assert.deepEqual(fs.map((f) => f.rule), ['dmarc.inherited']);
    assert.match(fs[0].message, /receivers following RFC 7489 cannot read it .*while lenient ones apply it/);
  });
});

describe('SPF: relay ranges copied, while part of the relay\'s record got no answer', () => {
  test('no claim about the addresses the relay publishes', async () => {
    const D = 'relayed.example';
    const relay = { relay: { provider: 'mailchannels', host: 'relay.mailchannels.net', authId: 'x' } } as Partial<MailSettings>;
    const fs = await spfCheck(
      checkContext(
        D,
        {
          [D]: { TXT: [['v=spf1 ip4:23.83.208.0/20 -all']] },
          'relay.mailchannels.net': { TXT: [['v=spf1 ip4:23.83.208.0/20 include:_spf2.mailchannels.net ~all']] },
          '_spf2.mailchannels.net': { TXT: 'TIMEOUT' },
        },
        relay,
      ),
    );
    const f = fs.find((x) => x.rule === 'spf.server-not-authorized');
    assert.ok(f, fs.map((x) => `${x.severity} ${x.rule} ${x.message}`).join('\n'));
    assert.doesNotMatch(f.message, /publishes today/);
  });
});
