// LOC records (RFC 1876) read as BIND 9.18 reads them. The reader took any data after LOC — `LOC bad data here`,
// a latitude of 91, a missing altitude — while named-checkzone refuses to load a zone holding such a line: as every
// other line whose data BIND refuses (zonefile-bind-types.test.ts), it is now a parse error naming the line and what is
// wrong, never a record, and the zone is not written until it is repaired (a fix written into it was a zone the name
// server still does not load). A LOC BIND loads, in every form it takes (minutes and seconds left out, the unit `m`
// or not, a sign, leading zeros, one to three precisions), is read as before.
// The verdicts are pinned from named-checkzone (BIND 9.18); where it is installed it judges them again, and a seeded
// batch of generated LOC lines (valid ones and mutations of them) line by line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { FilesPanel } from '../../../../src/adapters/panels/files/index.js';
import { parseZoneFile, presentValue, renderRecordLine } from '../../../../src/adapters/panels/files/zonefile.js';
import type { ZoneRecord } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { prng, type Rng } from '../../../helpers/prng.js';
import { BAKERY_ZONE, bakeryPanel } from '../../../helpers/bakery-panel.js';

const HEAD = ['$TTL 3600', '@ IN SOA ns1.other.net. host.other.net. ( 1 3600 600 86400 300 )', '@ IN NS ns1.other.net.'];
/** The 1-based line number of the line under test (after HEAD). */
const AT = HEAD.length + 1;
const zoneWith = (line: string) => [...HEAD, line, ''].join('\n');

/** LOC lines BIND refuses the zone for, each with the words of the error mailhealth reports for it. */
const REFUSED: [line: string, error: RegExp][] = [
  ['a LOC bad data here', /latitude degrees "bad" is not a number \(BIND refuses to load the zone: not a valid number\)/],
  ['a LOC 91 N 4 E 0', /latitude degrees "91" is not a number of 0 to 90 .*out of range/],
  ['a LOC 42 N 181 E 0', /longitude degrees "181" is not a number of 0 to 180 .*out of range/],
  ['a LOC 52 60 N 4 E 0', /latitude minutes "60" is not a number of 0 to 59 .*out of range/],
  ['a LOC 42 0 60 S 4 E 0', /latitude seconds "60" is not a number of 0 to 59\.999 .*out of range/],
  ['a LOC 52 22 23.0001 N 4 53 32 E 0', /latitude seconds "23\.0001" .*syntax error/],
  ['a LOC 42 0 . N 4 E 0', /latitude seconds "\." .*syntax error/],
  ['a LOC 90 0 0.001 N 4 E 0', /latitude seconds "0\.001" goes past latitude 90 .*out of range/],
  ['a LOC 42 N 180 0 0.001 W 0', /longitude seconds "0\.001" goes past longitude 180 .*out of range/],
  ['a LOC 90 1 N 4 E 0', /latitude minutes "1" goes past latitude 90/],
  ['a LOC 52 22 23.000 n 4 53 32.000 e -2.00m', /latitude's direction "n" is not N or S \(upper case\) .*syntax error/],
  ['a LOC 52 22 23 E 4 53 32 E 0', /latitude's direction "E" is not N or S/],
  ['a LOC 52 N 4 53 32 N 0', /longitude's direction "N" is not E or W/],
  ['a LOC 52 N 4 E', /data "52 N 4 E" ends before its altitude \(BIND refuses to load the zone: unexpected end of input\)/],
  ['a LOC 42 0 0 N', /ends before its longitude .*unexpected end of input/],
  ['a LOC 42 0 0', /ends before its latitude's direction \(N or S\)/],
  ['a LOC 42 N 4 E 42849672.96m', /altitude "42849672\.96m" is not a height of -100000\.00 to 42849672\.95 m .*out of range/],
  ['a LOC 42 N 4 E -100000.01', /altitude "-100000\.01" .*out of range/],
  ['a LOC 42 N 4 E --5', /altitude "--5" .*out of range/],
  ['a LOC 42 N 4 E 5mm', /altitude "5mm" .*syntax error/],
  ['a LOC 42 N 4 E 5.123m', /altitude "5\.123m" .*syntax error/],
  ['a LOC 42 N 4 E m', /altitude "m" .*syntax error/],
  ['a LOC 42 N 4 E -', /altitude "-" .*syntax error/],
  ['a LOC 42 N 4 E .m', /altitude "\.m" .*syntax error/],
  ['a LOC 42 N 4 E 0 90000000m 90000000.00m 90000001m', /vertical precision "90000001m" is not a length of 0 to 90000000\.99 m .*out of range/],
  ['a LOC 42 N 4 E 0 5.123', /size "5\.123" .*syntax error/],
  ['a LOC 42 N 4 E 0 0x5', /size "0x5" .*syntax error/],
  ['a LOC 42 N 4 E 0 5e2', /size "5e2" .*syntax error/],
  ['a LOC 42 N 4 E 0 m', /size "m" .*syntax error/],
  ['a LOC 42 N 4 E 0 1 2 3 4', /data has "4" after its vertical precision, its last field \(BIND refuses to load the zone: extra input text\)/],
  ['a LOC 42 "N" 4 E 0', /data "N" is quoted, where BIND reads it bare/],
  ['a LOC +42 N 4 E 0', /latitude degrees "\+42" is not a number/],
  ['a LOC 42 N 4 5.5 E 0', /longitude minutes "5\.5" is not a number/],
  ['a LOC 42 N 4 E 0 ( 1 2 3 4 )', /extra input text/],
];

/** LOC lines BIND loads: read as a LOC record, the data as written. */
const LOADED: string[] = [
  'a LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m',
  'a LOC 52 N 4 E 0',
  'a LOC 90 N 180 W 0',
  'a LOC 90 0 N 180 0 0.000 E 0',
  'a LOC 42 0 59.999 S 4 E 0',
  'a LOC 42 0 059.5 S 4 E 0',
  'a LOC 42 00059 N 004 E 0',
  'a LOC 42 0 .5 N 4 E 0',
  'a LOC 42 0 5. N 4 E 0',
  'a LOC 42 0 -0 N 4 E 0',
  'a LOC 42 N 4 E 42849672.95m',
  'a LOC 42 N 4 E 42849672',
  'a LOC 42 N 4 E -100000',
  'a LOC 42 N 4 E -100000.00m',
  'a LOC 42 N 4 E -0.5',
  'a LOC 42 N 4 E -+5',
  'a LOC 42 N 4 E +5m',
  'a LOC 42 N 4 E .5m',
  'a LOC 42 N 4 E 0 +5',
  'a LOC 42 N 4 E 0 -0',
  'a LOC 42 N 4 E 0 5.1m',
  'a LOC 42 N 4 E 0 5.m',
  'a LOC 42 N 4 E 0 90000000.99m',
  'a LOC 42 N 4 E 0 1 2 3',
  'a LOC 42 N 4 E 0m 0m 0m 0m',
  'a LOC ( 42 0 5 S\n   4 E 0 )',
  'a LOC 42 S 4 W 0 ; a comment',
];

test('a LOC line BIND refuses is a parse error naming the line and what is wrong, never a record', () => {
  for (const [line, error] of REFUSED) {
    const z = parseZoneFile(zoneWith(line), 'example.com');
    assert.equal(z.errors.length, 1, `${line}: ${JSON.stringify(z.errors)}`);
    assert.match(z.errors[0], new RegExp(`^line ${AT}: the LOC record's `), line);
    assert.match(z.errors[0], error, line);
    assert.equal(z.records.filter((r) => r.type === 'LOC').length, 0, line);
  }
});

test('a LOC line BIND loads is read as one LOC record with its data as written, and a line rendered from it reads the same', () => {
  for (const line of LOADED) {
    const z = parseZoneFile(zoneWith(line), 'example.com');
    assert.deepEqual(z.errors, [], line);
    const loc = z.records.filter((r) => r.type === 'LOC');
    assert.equal(loc.length, 1, line);
    const data = line.replace(/;.*$/, '').replace(/[()]/g, ' ').trim().split(/\s+/).slice(2);
    assert.deepEqual(loc[0].rdata, data, line);
    const back = parseZoneFile(zoneWith(renderRecordLine({ name: loc[0].name, ttl: loc[0].ttl, type: 'LOC', value: presentValue(loc[0]) })), 'example.com');
    assert.deepEqual(back.errors, [], line);
    // (The value drops the final dot of a field, `5.` seconds written `5`: the same number to BIND.)
    assert.deepEqual(back.records.filter((r) => r.type === 'LOC').map((r) => presentValue(r)), [presentValue(loc[0])], line);
  }
});

// ------------------------------------------------------------------------------------------------ through the panel

const ZONE = BAKERY_ZONE;

let root: string;
let zone: string;
let panel: FilesPanel;

beforeEach(() => {
  ({ root, zone, panel } = bakeryPanel('mailhealth-files-loc-', ZONE));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('through the files panel: a LOC BIND refuses blocks writes, naming the line; a fix is refused and nothing is written', async () => {
  writeFileSync(zone, `${ZONE}office\tIN\tLOC\t91 N 4 E 0\n`);
  const z = await panel.readZone('bakery.test');
  assert.match(z.writeBlocked ?? '', /line 5: the LOC record's latitude degrees "91" is not a number of 0 to 90/);
  const text = readFileSync(zone);
  const before = z.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
  const after: ZoneRecord = { name: before.name, ttl: before.ttl, type: 'TXT', value: 'v=spf1 +a +mx -all' };
  await assert.rejects(
    panel.applyChanges('bakery.test', [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after }], z.version),
    (e: unknown) => e instanceof PanelError && e.code === 'invalid-zone' && /line 5: the LOC record's latitude degrees/.test(e.message) && /Nothing was changed\.$/.test(e.message),
  );
  assert.deepEqual(readFileSync(zone), text, 'nothing written');
});

test('through the files panel: a LOC BIND loads leaves the zone writable, and a fix keeps the line as it is', async () => {
  const loc = 'office\tIN\tLOC\t52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m';
  writeFileSync(zone, `${ZONE}${loc}\n`);
  const z = await panel.readZone('bakery.test');
  assert.equal(z.writeBlocked, undefined);
  const before = z.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
  const after: ZoneRecord = { name: before.name, ttl: before.ttl, type: 'TXT', value: 'v=spf1 +a +mx -all' };
  await panel.applyChanges('bakery.test', [{ action: 'edit', name: before.name, type: 'TXT', ttl: before.ttl, before, after }], z.version);
  assert.ok(readFileSync(zone, 'utf8').includes(`\n${loc}\n`));
});

// ------------------------------------------------------------------------------------------------ BIND's own verdict

/** named-checkzone over a zone: whether it loads, and the lines (1-based) it names in an error. */
function bindVerdict(dir: string, text: string): { loads: boolean; lines: Set<number>; said: string } {
  const file = join(dir, 'example.com.db');
  writeFileSync(file, text);
  const r = spawnSync('named-checkzone', ['example.com', file], { encoding: 'utf8' });
  const said = `${r.stdout}${r.stderr}`;
  const lines = new Set([...said.matchAll(/example\.com\.db:(\d+): /g)].map((m) => Number(m[1])));
  return { loads: r.status === 0, lines, said };
}

const probeBind = (): boolean => {
  const probe = spawnSync('named-checkzone', ['-v'], { encoding: 'utf8' });
  return !probe.error && probe.status === 0;
};

test('named-checkzone agrees: it refuses every zone with a REFUSED line and loads every LOADED one', (t) => {
  if (!probeBind()) {
    t.skip('named-checkzone (BIND) is not installed: the verdicts above are pinned from BIND 9.18 (apt-get install bind9-utils to check them again)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-checkzone-loc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [line] of REFUSED) assert.equal(bindVerdict(dir, zoneWith(line)).loads, false, `BIND loads ${JSON.stringify(line)}`);
  for (const line of LOADED) {
    const v = bindVerdict(dir, zoneWith(line));
    assert.equal(v.loads, true, `BIND refuses ${JSON.stringify(line)}: ${v.said}`);
  }
});

/** A LOC record's data BIND loads: the fields in their forms (minutes and seconds left out or not, units, signs, zeros). */
function validLoc(r: Rng): string[] {
  const num = (max: number) => String(r.int(max + 1));
  const zeros = (s: string) => (r.chance(0.1) ? `0${s}` : s);
  const coord = (maxd: number, dirs: string): string[] => {
    const d = r.int(maxd + 1);
    const out = [zeros(String(d))];
    if (d < maxd && r.chance(0.7)) {
      out.push(zeros(num(59)));
      if (r.chance(0.7)) out.push(r.pick([num(59), `${num(59)}.${r.int(1000)}`, `${num(59)}.${String(r.int(10))}`, `${num(59)}.`, `.${r.int(10)}`, '59.999']));
    }
    out.push(dirs[r.int(2)]);
    return out;
  };
  const meters = (max: number, signed: boolean) => {
    const sign = signed && r.chance(0.3) ? '-' : r.chance(0.05) ? '+' : '';
    const whole = sign === '-' ? r.int(100001) : r.chance(0.1) ? max : r.int(100000);
    const frac = r.pick(['', `.${r.int(100)}`, `.${r.int(10)}`, '.']);
    return `${sign}${whole}${whole === max || (sign === '-' && whole === 100000) ? '' : frac}${r.chance(0.5) ? 'm' : ''}`;
  };
  const out = [...coord(90, 'NS'), ...coord(180, 'EW'), meters(42849672, true)];
  for (let k = r.int(4); k > 0; k--) out.push(meters(90000000, false));
  return out;
}

/** A token that breaks a LOC field or is one of its edges. */
const ODD = ['91', '181', '90', '180', '60', '59', '59.999', '59.9999', '60.0', '-1', '+5', '-0', '0', 'N', 'S', 'E', 'W', 'n', 'e', 'x', '5m', '5.m', '.m', '.', 'm', '-', '--5', '-+5', '0x5', '5e2', '42849672.95m', '42849672.96m', '-100000', '-100000.01', '90000000.99m', '90000001m', '5.123m', '5.12m', '1.', '.5', '007', '99999999999999999999', '5\\m', '5,5'];

/** A LOC line: valid, or one mutated (a token replaced, left out, repeated or swapped; one added). */
function locLine(r: Rng, n: number): string {
  const data = validLoc(r);
  if (r.chance(0.75)) {
    const at = r.int(data.length + 1);
    switch (r.int(5)) {
      case 0:
        data[Math.min(at, data.length - 1)] = r.pick(ODD);
        break;
      case 1:
        data.splice(Math.min(at, data.length - 1), 1);
        break;
      case 2:
        data.splice(at, 0, r.pick(ODD));
        break;
      case 3:
        data.splice(at, 0, data[Math.min(at, data.length - 1)]);
        break;
      default:
        if (at + 1 < data.length) [data[at], data[at + 1]] = [data[at + 1], data[at]];
    }
  }
  return `l${n} LOC ${data.join(' ')}`;
}

test('differential: 1500 generated LOC lines (seeded) have the verdict named-checkzone gives each', (t) => {
  if (!probeBind()) {
    t.skip('named-checkzone (BIND) is not installed: this test compares the LOC reader with it line by line (apt-get install bind9-utils)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mailhealth-checkzone-loc-diff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = prng(20261204);
  const lines = Array.from({ length: 1500 }, (_, n) => locLine(r, n));
  // One zone: BIND names every line it refuses (each error is on its own line; the lines hold no parenthesis or quote
  // that would carry over to the next).
  const text = [...HEAD, ...lines, ''].join('\n');
  const bind = bindVerdict(dir, text);
  const ours = new Set(parseZoneFile(text, 'example.com').errors.map((e) => Number(/^line (\d+):/.exec(e)![1])));
  const differ = lines.map((line, k) => ({ line, n: HEAD.length + 1 + k })).filter(({ n }) => bind.lines.has(n) !== ours.has(n));
  assert.deepEqual(differ.map(({ line, n }) => `${line}: BIND ${bind.lines.has(n) ? 'refuses' : 'loads'}, mailhealth ${ours.has(n) ? 'refuses' : 'reads'}`), []);
  // The batch exercises both verdicts.
  assert.ok(bind.lines.size > 300 && bind.lines.size < 1200, `BIND refused ${bind.lines.size} of ${lines.length}`);
});
