// core/arrays: the same values as literals, .map() and .filter(); every empty list is a new array (the helpers copy
// one private empty array, which must never change).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { emptyList, filterList, mapList } from '../../src/core/arrays.js';

it('emptyList gives a new empty array each time, unaffected by what was pushed to an earlier one', () => {
  const a = emptyList<string>();
  a.push('x');
  const b = emptyList<string>();
  assert.notEqual(a, b);
  assert.deepEqual(b, []);
  assert.deepEqual(mapList([], (x: string) => x), []);
  assert.deepEqual(filterList(['a'], () => false), []);
});

it('mapList and filterList give what .map() and .filter() give, in order', () => {
  const xs = ['b', 'a', '', 'c'];
  assert.deepEqual(mapList(xs, (x) => x.toUpperCase()), xs.map((x) => x.toUpperCase()));
  assert.deepEqual(filterList(xs, (x) => x !== ''), xs.filter((x) => x !== ''));
  assert.deepEqual(mapList([{ n: 1 }, { n: 2 }], (o) => o.n * 2), [2, 4]);
});
