// DomainInfo::list_domains answered with cPanel's success envelope but data of another shape (QA h3 D14): data null, a
// list instead of the object, no main domain, a list of something other than names. The listing fails with a
// PanelError saying so — never "the account has no domains", which made a bulk audit skip the account's domains as no
// longer on the server (a failed listing answers "still listed": nothing is skipped on a guess).
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import * as cpanel from '../../../../src/adapters/panels/cpanel/index.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { DOMAIN, frontWorld, healthyRecords, rewrite, type World } from './front.js';

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

const alice = { user: 'alice', role: 'customer' } as const;

describe('cPanel: a domain listing of another shape is an error, not an empty account', () => {
  for (const [what, data, re] of [
    ['data null', null, /\(no data\)/],
    ['a list instead of the object', [{ main_domain: 'alice.example' }], /\(a list instead of an object\)/],
    ['an object without main_domain', { unexpected: true }, /\(no main_domain\)/],
    ['addon_domains not a list of names', { main_domain: 'alice.example', addon_domains: 'alice-shop.example' }, /\(addon_domains is not a list of names\)/],
  ] as const) {
    it(`${what}: listDomains and readZone fail with why`, async () => {
      w = await frontWorld(healthyRecords(), [{ fn: 'DomainInfo::list_domains', answer: rewrite((j) => ({ ...j, data })) }]);
      await rejectsWith(w.panel.listDomains(alice), 'other', new RegExp(`^cPanel's answer to DomainInfo::list_domains had an unexpected shape ${re.source}`));
      await rejectsWith(w.panel.readZone(DOMAIN), 'other', /DomainInfo::list_domains had an unexpected shape/);
    });
  }

  it('what cPanel gives is read as before; absent or null lists count as empty', async () => {
    w = await frontWorld(healthyRecords());
    assert.deepEqual((await w.panel.listDomains(alice)).map((d) => d.domain), ['alice.example', 'alice-shop.example', 'blog.alice.example']);
    assert.deepEqual((cpanel as unknown as { domainsListOf: (d: unknown) => unknown }).domainsListOf({ main_domain: 'a.example', addon_domains: null, sub_domains: ['b.a.example'] }), { main_domain: 'a.example', sub_domains: ['b.a.example'] });
  });
});
