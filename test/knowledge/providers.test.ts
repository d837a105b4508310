// The provider data itself: shape, sources, and the entries whose class matters most.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultKnowledge } from '../../src/knowledge/index.js';

const KINDS = new Set(['hosting', 'mail-service', 'report-processor', 'shared-infrastructure']);

test('every provider has a known kind, a source and unique id', () => {
  const ids = new Set<string>();
  for (const p of defaultKnowledge.providers) {
    assert.ok(KINDS.has(p.kind), `${p.id}: kind ${p.kind}`);
    assert.ok(p.source && p.source.trim(), `${p.id}: source`);
    assert.ok(!ids.has(p.id), `${p.id}: duplicate id`);
    ids.add(p.id);
  }
});

test('mailspamprotection.com is shared filtering infrastructure, not SiteGround (mail-auth.md §8 caveats)', () => {
  for (const h of ['_spf.mailspamprotection.com', 'mx10.antispam.mailspamprotection.com', 'mailspamprotection.com']) {
    const p = defaultKnowledge.matchHost(h);
    assert.ok(p, h);
    assert.equal(p.id, 'mailspamprotection', h);
    assert.equal(p.kind, 'shared-infrastructure', h);
    assert.match(p.source, /mail-auth\.md §8/);
  }
  const sg = defaultKnowledge.providers.find((p) => p.id === 'siteground')!;
  assert.ok(!sg.spf.concat(sg.hosts).some((h) => h.includes('mailspamprotection')), 'SiteGround no longer claims mailspamprotection.com');
  assert.equal(defaultKnowledge.matchHost('c1.sgvps.net')?.id, 'siteground');
});

test('HostGator (websitewelcome.com) stays a hosting provider', () => {
  const p = defaultKnowledge.matchHost('gator123.websitewelcome.com');
  assert.equal(p?.id, 'hostgator');
  assert.equal(p?.kind, 'hosting');
});
