// mapInPool / mapInGroups (src/web/pool.ts): at most `limit` at once, results in the items' order, and items of one
// group (domains that may share a zone: a subdomain in its parent's zone) never at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapInGroups, mapInPool } from '../../src/web/pool.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('mapInPool: at most the limit at once, results in order', async () => {
  let active = 0;
  let peak = 0;
  const out = await mapInPool([5, 4, 3, 2, 1, 0], 3, async (n, i) => {
    active++;
    peak = Math.max(peak, active);
    for (let k = 0; k < n; k++) await tick();
    active--;
    return `${i}:${n}`;
  });
  assert.deepEqual(out, ['0:5', '1:4', '2:3', '3:2', '4:1', '5:0']);
  assert.equal(peak, 3);
  assert.deepEqual(await mapInPool([], 4, async () => 1), []);
});

test('mapInGroups: one group’s items one after another in their order, other groups alongside; results in order', async () => {
  const items = ['shop.alice.example', 'bob.example', 'alice.example', 'carol.example', 'blog.alice.example'];
  const group = (d: string) => d.split('.').slice(-2).join('.');
  const running = new Map<string, number>();
  let peak = 0;
  let total = 0;
  const order: string[] = [];
  const out = await mapInGroups(items, 4, group, async (d) => {
    const g = group(d);
    running.set(g, (running.get(g) ?? 0) + 1);
    assert.equal(running.get(g), 1, `two of ${g} at once`);
    total++;
    peak = Math.max(peak, total);
    order.push(d);
    await tick();
    await tick();
    running.set(g, running.get(g)! - 1);
    total--;
    return d.toUpperCase();
  });
  assert.deepEqual(out, items.map((d) => d.toUpperCase()));
  assert.ok(peak >= 2, 'different groups ran alongside');
  assert.deepEqual(order.filter((d) => group(d) === 'alice.example'), ['shop.alice.example', 'alice.example', 'blog.alice.example']);
});
