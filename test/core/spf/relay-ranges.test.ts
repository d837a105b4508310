// The range arithmetic the relay's judgement rests on (src/core/ip.ts: Net, netInside, netOverlap, netsCover,
// mergedText, cidrOverlap — one implementation, where relay.ts had its own bigint ranges beside ip.ts's string ranges),
// checked address by address against the sets of addresses the ranges stand for, over small seeded ranges of each
// family.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cidrOverlap, mergedText, netInside, netOverlap, netsCover, toNet, type Net } from '../../../src/core/ip.js';
import { prng, type Rng } from '../../helpers/prng.js';

/** The ranges drawn: inside 10.0.0.0/26 and 2001:db8::/122 (64 addresses each), so that every address can be listed. */
const SPACES = [
  { base: '10.0.0.', width: 32, text: (k: number) => `10.0.0.${k}` },
  // As messages write it (RFC 5952): 2001:db8::, 2001:db8::3f.
  { base: '2001:db8::', width: 128, text: (k: number) => `2001:db8::${k ? k.toString(16) : ''}` },
];
const SIZE = 64;

type Space = (typeof SPACES)[number];

/** A range of `space` as text, and the offsets (0..63) of the addresses it holds. */
function draw(r: Rng, space: Space): { text: string; set: Set<number> } {
  const hostBits = r.int(7); // 1 to 64 addresses
  const start = r.int(SIZE >> hostBits) << hostBits;
  // Written with host bits set now and then ("10.0.0.5/30"): the range is what the prefix says.
  const written = hostBits && r.chance(0.3) ? start + r.int(1 << hostBits) : start;
  const set = new Set(Array.from({ length: 1 << hostBits }, (_, k) => start + k));
  return { text: `${space.text(written)}/${space.width - hostBits}`, set };
}

const net = (text: string): Net => {
  const n = toNet(text);
  assert.ok(n, text);
  return n;
};
const subset = (a: Set<number>, b: Set<number>) => [...a].every((x) => b.has(x));

describe('range arithmetic against the addresses themselves', () => {
  for (const space of SPACES) {
    test(`${space.base}: inside, overlap, cover`, () => {
      const r = prng(7208 + space.width);
      for (let i = 0; i < 400; i++) {
        const a = draw(r, space);
        const b = draw(r, space);
        const show = `${a.text} ${b.text}`;
        assert.equal(netInside(net(a.text), net(b.text)), subset(a.set, b.set), show);
        const shared = [...a.set].some((x) => b.set.has(x));
        assert.equal(netOverlap(net(a.text), net(b.text)), shared, show);
        assert.equal(cidrOverlap(a.text, b.text), shared, show);
        const others = Array.from({ length: r.int(5) }, () => draw(r, space));
        const union = new Set(others.flatMap((o) => [...o.set]));
        assert.equal(
          netsCover(
            others.map((o) => net(o.text)),
            net(a.text),
          ),
          subset(a.set, union),
          `${a.text} by ${others.map((o) => o.text).join(' ')}`,
        );
      }
    });

    test(`${space.base}: pieces in address order merged into the fewest ranges`, () => {
      const r = prng(4632 + space.width);
      for (let i = 0; i < 200; i++) {
        // The whole space cut in halves at random, some of the pieces kept.
        const pieces: { start: number; hostBits: number }[] = [];
        const cut = (start: number, hostBits: number): void => {
          if (hostBits > 0 && r.chance(0.6)) {
            cut(start, hostBits - 1);
            cut(start + (1 << (hostBits - 1)), hostBits - 1);
          } else if (r.chance(0.7)) pieces.push({ start, hostBits });
        };
        cut(0, 6);
        const set = new Set(pieces.flatMap((p) => Array.from({ length: 1 << p.hostBits }, (_, k) => p.start + k)));
        const text = (start: number, hostBits: number) => (hostBits ? `${space.text(start)}/${space.width - hostBits}` : space.text(start));
        // The fewest ranges: from the lowest address not yet taken, the largest aligned range of the set starting there.
        const fewest: string[] = [];
        for (let x = 0; x < SIZE; ) {
          if (!set.has(x)) {
            x++;
            continue;
          }
          let bits = 0;
          while (x % (1 << (bits + 1)) === 0 && x + (1 << (bits + 1)) <= SIZE && Array.from({ length: 1 << (bits + 1) }, (_, k) => x + k).every((y) => set.has(y))) bits++;
          fewest.push(text(x, bits));
          x += 1 << bits;
        }
        assert.deepEqual(
          mergedText(pieces.map((p) => net(`${space.text(p.start)}/${space.width - p.hostBits}`))),
          fewest,
          pieces.map((p) => text(p.start, p.hostBits)).join(' '),
        );
      }
    });
  }

  test('ranges of different families share nothing', () => {
    assert.equal(cidrOverlap('0.0.0.0/0', '::/0'), false);
    assert.equal(cidrOverlap('10.0.0.5/32', '::ffff:10.0.0.5/128'), false);
    assert.equal(netsCover([net('0.0.0.0/0')], net('::ffff:10.0.0.0/120')), false);
  });
});

test('a prefix length is digits only: "1.2.3.4/" is no range (Number() read it as /0), nor " 8", "0x10", "1e1"', () => {
  for (const bad of ['1.2.3.4/', '1.2.3.4/ 8', '1.2.3.4/0x10', '1.2.3.4/1e1', '2001:db8::/+32', '1.2.3.4/33', '1.2.3.4/-1']) assert.equal(toNet(bad), null, bad);
  assert.deepEqual(toNet('1.2.3.4/8'), toNet('1.0.0.0/8'));
  assert.notEqual(toNet('2001:db8::/032'), null);
});
