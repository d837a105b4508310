// domainSteps (Plesk): the calls a write to a domain's zone makes, worked out before anything is sent — which record a
// delete goes to (by type + host + value through `plesk bin dns --del`, or by id through REST), and the adds Plesk
// cannot make (a record identical to one the zone holds: Plesk keeps one copy).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainSteps } from '../../../../src/adapters/panels/plesk/index.js';
import type { Change, ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';

const d = 'alice.example';

describe('domainSteps: which record a delete goes to', () => {
  const rec = (ttl: number, ref?: string, extra: Partial<ZoneRecord> = {}): ZoneRecord => ({ name: d, ttl, type: 'TXT', value: 'v=spf1 -all', txt: ['v=spf1 -all'], ...(ref ? { ref } : {}), ...extra });
  const remove = (r: ZoneRecord): Change => ({ action: 'remove', name: r.name, type: r.type, ttl: r.ttl, before: r, after: null });
  const other = (ttl: number, ref: string): ZoneRecord => ({ name: `_dmarc.${d}`, ttl, type: 'TXT', value: 'v=DMARC1; p=none', txt: ['v=DMARC1; p=none'], ref });

  it('a record alone with its value, its host as read: `--del` (type + host + value)', () => {
    assert.deepEqual(domainSteps([rec(300, '1'), other(300, '2')], [remove(rec(300, '1'))]), [{ op: 'del', rec: rec(300, '1'), byId: false }]);
  });
  it('one of identical records: by the plan’s id; else by its TTL when that tells it apart', () => {
    const zone = [rec(300, '1'), rec(3600, '2')];
    assert.deepEqual(domainSteps(zone, [remove(rec(3600, '2'))]), [{ op: 'del', rec: rec(3600, '2'), byId: true }]);
    assert.deepEqual(domainSteps(zone, [remove(rec(3600))]), [{ op: 'del', rec: rec(3600, '2'), byId: true }]);
  });
  it('identical records it cannot tell apart, or no id to delete by: refused, nothing sent', () => {
    const e1 = (() => {
      try {
        domainSteps([rec(300, '1'), rec(300, '2')], [remove(rec(300, '9'))]);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(e1 instanceof PanelError && e1.code === 'stale' && /cannot be told apart/.test(e1.message), String(e1));
    assert.throws(() => domainSteps([rec(300), rec(3600)], [remove(rec(300))]), (e) => e instanceof PanelError && /gave no id/.test(e.message));
  });
  it('a host spelled otherwise: by id', () => {
    const spelled = rec(300, '1', { source: 'Alice.Example.' });
    assert.deepEqual(domainSteps([spelled], [remove(rec(300, '1'))]), [{ op: 'del', rec: spelled, byId: true }]);
  });
  it('an add identical to a record the zone holds, or one this write adds, is refused as record-exists', () => {
    const add = (r: ZoneRecord): Change => ({ action: 'add', name: r.name, type: r.type, ttl: r.ttl, before: null, after: r });
    assert.throws(() => domainSteps([rec(300, '1')], [add(rec(3600))]), (e) => e instanceof PanelError && e.code === 'record-exists' && /the zone already holds/.test(e.message));
    assert.throws(() => domainSteps([], [add(rec(300)), add(rec(3600))]), (e) => e instanceof PanelError && e.code === 'record-exists' && /after the other steps of this change/.test(e.message));
    // Removed first, then added (a TTL edit): fine.
    assert.equal(domainSteps([rec(300, '1')], [{ action: 'edit', name: d, type: 'TXT', ttl: 600, before: rec(300, '1'), after: rec(600) }]).length, 2);
  });
});
