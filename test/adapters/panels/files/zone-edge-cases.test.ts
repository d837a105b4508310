// Zone files as admins and other tools really write them, through the whole cycle on the files panel: read → audit →
// preview each fix (SPF, lockdown, DMARC, DKIM) → apply → compare the file outside the owned records → undo → compare
// with the original (QA "zone files as people write them"). Every case starts from the demo's florist.example with the
// previous host's key at default._domainkey, so each of the four fixes has a record to change (or, with the records
// taken out, to add). Cases the files panel refuses (a DNSSEC-signed file, $INCLUDE, $GENERATE, a byte order mark) are
// blocked at preview with a message saying why, and a write is refused with the file untouched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bumpSerialText, lineBreakOf, nextSerial, parseZoneFile, presentValue, withoutCr } from '../../../../src/adapters/panels/files/zonefile.js';
import type { FixKind } from '../../../../src/core/model.js';
import { PanelError } from '../../../../src/core/panel.js';
import { applyPlan, undoChange } from '../../../../src/core/plans/apply.js';
import { DEMO_PANEL_DIR } from '../../../../src/demo/world.js';
import { startPlay, TODAY, type Play } from '../../../helpers/fixplay.js';

const D = 'florist.example';
const demo = (d: string) => readFileSync(join(DEMO_PANEL_DIR, 'zones', `${d}.db`), 'utf8');
const DKIM_LINE = demo('plumber.example').split('\n').find((l) => l.startsWith('default._domainkey'))!;
/** florist.example: stale SPF include, `_mailchannels auth=dreamhost`, DMARC reports to dreamhost.com, and a DKIM key the server does not sign with. */
const BASE = demo(D).replace(/^default\._domainkey.*$/m, DKIM_LINE);
const SPF = '@\tIN\tTXT\t"v=spf1 mx include:netblocks.dreamhost.com include:relay.mailchannels.net -all"';
const DMARC = '_dmarc\tIN\tTXT\t"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@dreamhost.com"';
const MC = '_mailchannels\tIN\tTXT\t"v=mc1 auth=dreamhost"';
const SOA3 = '@\tIN\tSOA\tns1.newhost.example. hostmaster.newhost.example. (\n\t\t2026110101 ; serial\n\t\t3600 1800 1209600 300 )';
for (const l of [SPF, DMARC, MC, SOA3]) assert.ok(BASE.includes(l), `the demo zone holds ${l}`);
const CHECKS: FixKind[] = ['spf', 'lockdown', 'dmarc', 'dkim'];

/** The text with the SOA serial set to 0 (the one token a write changes besides the owned records). */
function serialMasked(text: string): string {
  const soa = parseZoneFile(text, D).records.find((r) => r.type === 'SOA');
  return soa ? (bumpSerialText(text, soa, 0) ?? text) : text;
}

/** Records as comparable rows, in file order (the SOA's serial left out). */
function rows(text: string): string[] {
  return parseZoneFile(text, D).records.map((r) => JSON.stringify([r.name, r.ttl, r.class, r.type, r.type === 'SOA' ? r.rdata.filter((_, i) => i !== 2) : r.rdata, r.txt ?? null]));
}

interface Cycle {
  check: FixKind;
  status: string;
  blocked?: string;
  reason?: string;
  serials?: [string, string];
}

/**
 * Each fix in turn on the zone `text`: preview; when it can be applied, apply it and check that every line outside the
 * records it owns is still there byte for byte and in order (the serial aside), that every record it does not own
 * parses as before, and that the undo gives back the file as it was before the apply (the serial aside).
 */
async function cycle(p: Play, text: string): Promise<Cycle[]> {
  p.writeZone(D, text);
  p.refresh();
  const out: Cycle[] = [];
  for (const check of CHECKS) {
    const beforeText = p.zoneText(D);
    const plan = await p.plan(D, check);
    if (plan.blocked || plan.changes.length === 0) {
      out.push({ check, status: plan.blocked ? 'blocked' : 'nothing', ...(plan.blocked ? { blocked: plan.blocked } : {}) });
      continue;
    }
    const res = await applyPlan({ domain: D, check, planHash: plan.planHash }, p.deps());
    const afterText = p.zoneText(D);
    if (res.status !== 'applied') {
      assert.equal(afterText, beforeText, `${check}: not applied, so nothing written`);
      out.push({ check, status: res.status, reason: (res as { reason?: string }).reason });
      continue;
    }
    // Lines outside the owned records: all there, in order, byte for byte (the serial masked). The old last line of a
    // file without a final line break gains one when records are appended after it: compared without it.
    const owned = new Set<number>();
    for (const c of plan.changes) {
      if (!c.before?.ref) continue;
      const [s, e] = c.before.ref.split('-').map(Number);
      for (let k = s; k <= e; k++) owned.add(k);
    }
    const bl = serialMasked(beforeText).split('\n');
    const al = serialMasked(afterText).split('\n');
    const lastOpen = !beforeText.endsWith('\n');
    let j = 0;
    for (let k = 0; k < bl.length; k++) {
      if (owned.has(k)) continue;
      const want = lastOpen && k === bl.length - 1 ? withoutCr(bl[k]) : bl[k];
      while (j < al.length && (lastOpen && k === bl.length - 1 ? withoutCr(al[j]) : al[j]) !== want) j++;
      assert.ok(j < al.length, `${check}: line ${k + 1} ${JSON.stringify(bl[k])} is kept, in order`);
      j++;
    }
    // Records it does not own: parsed exactly as before, in the same order.
    const ownedKeys = new Set(plan.changes.flatMap((c) => [c.before, c.after].filter((r) => r).map((r) => `${r!.name}|${r!.type}`)));
    const notOwned = (t: string) => rows(t).filter((r) => !ownedKeys.has(`${JSON.parse(r)[0]}|${JSON.parse(r)[3]}`));
    assert.deepEqual(notOwned(afterText), notOwned(beforeText), `${check}: the records it does not own are unchanged`);
    const serial = (t: string) => parseZoneFile(t, D).records.find((r) => r.type === 'SOA')!.rdata[2];
    const u = await undoChange(res.changeId, p.deps());
    assert.equal(u.status, 'applied', `${check}: undone ${JSON.stringify(u)}`);
    const undone = p.zoneText(D);
    // A record appended to a file without a final line break gives its last line one (index.test.ts, "CRLF zone"); the
    // undo that takes the record out again leaves that break: the one byte it does not give back.
    const gained = lastOpen && plan.changes.some((c) => c.action === 'add') ? lineBreakOf(beforeText) : '';
    assert.equal(serialMasked(undone), serialMasked(beforeText) + gained, `${check}: the undo gives back the file byte for byte (the serial aside)`);
    out.push({ check, status: 'applied', serials: [serial(beforeText), serial(afterText)] });
  }
  return out;
}

/** A zone that cannot be written: every fix blocked at preview with `why`, and a write refused with the file untouched. */
async function refused(p: Play, text: string, why: RegExp): Promise<void> {
  const results = await cycle(p, text);
  for (const r of results) {
    assert.equal(r.status, 'blocked', `${r.check}: ${JSON.stringify(r)}`);
    assert.match(r.blocked!, why);
  }
  const zone = await p.panel.readZone(D);
  assert.match(zone.writeBlocked ?? '', why);
  const spf = zone.records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
  const after = { ...spf, value: 'v=spf1 mx -all', txt: ['v=spf1 mx -all'] };
  delete after.ref;
  delete after.source;
  await assert.rejects(
    p.panel.applyChanges(D, [{ action: 'edit', name: spf.name, type: 'TXT', ttl: spf.ttl, before: spf, after }], zone.version),
    (e: unknown) => e instanceof PanelError && e.code === 'invalid-zone' && why.test(e.message) && /Nothing was changed/.test(e.message),
  );
  assert.equal(p.zoneText(D), text, 'nothing written');
}

let play: Play;
before(async () => {
  play = await startPlay();
});
after(async () => {
  await play.close();
});

describe('zone files as written by hand and by tools: every fix applied and undone, nothing else touched', () => {
  const variants: Record<string, string> = {
    'the demo zone': BASE,
    '$TTL with units (1h), a record TTL 1d2h': BASE.replace('$TTL 3600', '$TTL 1h').replace('mail\tIN', 'mail\t1d2h\tIN'),
    '$ORIGIN changed mid-file and back, and a relative $ORIGIN at the end': BASE.replace(DMARC, `$ORIGIN sub.florist.example.\nwww2\tIN\tA\t203.0.113.11\n$ORIGIN florist.example.\n${DMARC}`) + '$ORIGIN sub\nhost\tIN\tA\t203.0.113.12\n',
    'a long DKIM TXT over three lines with comments inside; SOA with unit fields and comments': BASE.replace(DKIM_LINE, DKIM_LINE.replace(/" "/, '" ; first half\n\t"').replace(/" \)$/, '"\t; second half\n\t)  ; end')).replace(SOA3, '@\tIN\tSOA\tns1.newhost.example.\thostmaster.newhost.example. (\n\t\t\t2026110101\t; serial\n\t\t\t3H\t\t; refresh\n\t\t\t15M\t\t; retry\n\t\t\t1W\t\t; expire\n\t\t\t1D )\t\t; minimum'),
    'blank owners after the owned records (they inherit the owner)': BASE.replace(SPF, `${SPF}\n\tIN\tTXT\t"google-site-verification=abc"\n\t300\tIN\tA\t203.0.113.10`).replace(MC, `${MC}\n\tIN\tA\t203.0.113.99`).replace(DMARC, `${DMARC}\n\tIN\tTXT\t"not-dmarc"`),
    'the SPF record itself with a blank owner': BASE.replace(SPF, SPF.replace(/^@/, '')),
    'absolute names, class omitted, lower-case types': BASE.replace('_dmarc\tIN', '_dmarc.florist.example.\tIN').replace(/\tIN\t(TXT|MX|A|NS|CNAME)\t/g, (_, t: string) => `\t${t.toLowerCase()}\t`),
    'class before TTL and TTL before class': BASE.replace(/^(_dmarc|_mailchannels)\tIN\t/gm, '$1\tIN\t300\t').replace(/^(@|default\._domainkey)\tIN\tTXT\t/gm, '$1\t300\tIN\tTXT\t'),
    'escapes (\\DDD, \\", \\\\), a ; inside quotes, comments at line ends': BASE.replace(MC, `esc\tIN\tTXT\t"a\\"b\\\\c\\059d\\195\\169" ; comment\nsemi\tIN\tTXT\t"a;b ; c" ; real comment\n${MC} ; trailing`).replace(DMARC, `${DMARC}   ; reports to the old host`),
    'CRLF line endings, no final line break': BASE.replace(/\n$/, '').replace(/\n/g, '\r\n'),
    'spaces instead of tabs, mixed': BASE.replace(/\t/g, '    ').replace(/^_dmarc {4}/m, '_dmarc \t '),
    'CAA, SRV, TLSA over two lines, SVCB, HTTPS, an RFC 3597 unknown type, wildcards': BASE.replace(
      'www\tIN',
      '@\tIN\tCAA\t0 issue "letsencrypt.org"\n_sip._tcp\tIN\tSRV\t10 60 5060 sip\n_25._tcp.mail\tIN\tTLSA\t3 1 1 ( 0C72AC70B745AC19998811B131D662C9\n\tAC69DBDBE7CB23E5B514B56664C5D3D6 )\n_svc\tIN\tSVCB\t1 svc.florist.example. alpn="h2,h3" port=8443\n@\tIN\tHTTPS\t1 . alpn=h2\nunk\tIN\tTYPE65534\t\\# 4 0A000001\n*\tIN\tA\t203.0.113.10\n*.wild\tIN\tMX\t10 mail\nwww\tIN',
    ),
    'a DNSKEY without signatures (a zone the name server signs itself)': BASE.replace('www\tIN', '@\tIN\tDNSKEY\t257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\nwww\tIN'),
    'a very long line, duplicate records, a name outside the origin': BASE.replace('www\tIN', `long\tIN\tTXT\t${Array.from({ length: 40 }, (_, i) => `"${'x'.repeat(250)}${i}"`).join(' ')}\ndup\tIN\tA\t203.0.113.5\ndup\tIN\tA\t203.0.113.5\nother.example.\tIN\tA\t203.0.113.6\nwww\tIN`),
    'no $TTL: TTLs inherited from the record before': BASE.replace('$TTL 3600\n', '').replace(SOA3, SOA3.replace('@\tIN', '@\t7200\tIN')).replace(DMARC, DMARC.replace('_dmarc\tIN', '_dmarc\t600\tIN')) + 'after\tIN\tA\t203.0.113.7\n',
  };
  for (const [name, text] of Object.entries(variants)) {
    test(name, async () => {
      const results = await cycle(play, text);
      assert.deepEqual(
        results.map((r) => `${r.check} ${r.status}`),
        CHECKS.map((c) => `${c} applied`),
        JSON.stringify(results),
      );
    });
  }
});

describe('records taken out: the fixes add them at the end and the undo takes them out again', () => {
  const noDmarcNoMc = BASE.replace(DMARC + '\n', '').replace(MC + '\n', '');
  for (const [name, text] of Object.entries({
    'with a final line break': noDmarcNoMc,
    'a file without a final line break ending in a comment (the undo leaves it the line break the add gave it)': noDmarcNoMc + '; end of zone',
    'CRLF, no final line break, ending in a record over two lines': (noDmarcNoMc + 'multi\tIN\tTXT\t( "a"\n\t"b" )').replace(/\n/g, '\r\n'),
  })) {
    test(name, async () => {
      const results = await cycle(play, text);
      assert.deepEqual(
        results.map((r) => `${r.check} ${r.status}`),
        CHECKS.map((c) => `${c} applied`),
      );
      // The apply itself: the record added last, with the file's line break.
      const plan = await play.plan(D, 'dmarc');
      assert.equal(plan.changes[0].action, 'add');
      const res = await applyPlan({ domain: D, check: 'dmarc', planHash: plan.planHash }, play.deps());
      assert.equal(res.status, 'applied');
      const written = play.zoneText(D);
      const brk = text.includes('\r\n') ? '\r\n' : '\n';
      assert.ok(written.endsWith(brk) && !written.endsWith('\r\r\n'), 'the new last line ends with the file\'s line break');
      assert.ok(written.slice(0, -brk.length).split('\n').pop()!.startsWith('_dmarc.florist.example.'), 'the record added last');
    });
  }
});

describe('a record type written as TYPE<n>, rdata in the generic \\# form (RFC 3597): read as BIND reads them', () => {
  test('an SPF record written `TYPE16 "v=spf1 …"` is the SPF record: the fix edits it, never adds a second one (QA: two SPF records, permerror)', async () => {
    const text = BASE.replace(SPF, SPF.replace('\tTXT\t', '\tTYPE16\t'));
    const z = parseZoneFile(text, D);
    assert.deepEqual(z.records.filter((r) => r.name === D && r.type === 'TXT').map((r) => r.txt), [['v=spf1 mx include:netblocks.dreamhost.com include:relay.mailchannels.net -all']]);
    play.writeZone(D, text);
    play.refresh();
    const plan = await play.plan(D, 'spf');
    assert.deepEqual(plan.changes.map((c) => c.action), ['edit']);
    const res = await applyPlan({ domain: D, check: 'spf', planHash: plan.planHash }, play.deps());
    assert.equal(res.status, 'applied');
    const spf = parseZoneFile(play.zoneText(D), D).records.filter((r) => r.name === D && r.txt?.join('').startsWith('v=spf1'));
    assert.deepEqual(spf.map((r) => [r.type, r.txt!.join('')]), [['TXT', 'v=spf1 mx include:relay.mailchannels.net -all']]);
    assert.ok(!play.zoneText(D).includes('TYPE16'), 'the record replaced, not kept beside the new one');
  });

  test('a _mailchannels TXT in the generic form `\\# 21 14763d…` is the lockdown record: the fix edits it (QA: a second record was added)', async () => {
    const hex = Buffer.concat([Buffer.from([20]), Buffer.from('v=mc1 auth=dreamhost')]).toString('hex');
    const text = BASE.replace(MC, `_mailchannels\tIN\tTXT\t\\# 21 ${hex.slice(0, 10)} ${hex.slice(10)}`);
    assert.deepEqual(parseZoneFile(text, D).records.find((r) => r.name === `_mailchannels.${D}`)!.txt, ['v=mc1 auth=dreamhost']);
    const results = await cycle(play, text);
    assert.deepEqual(results.map((r) => `${r.check} ${r.status}`), CHECKS.map((c) => `${c} applied`));
    const plan = await play.plan(D, 'lockdown');
    assert.deepEqual(plan.changes.map((c) => c.action), ['edit']);
  });

  test('generic TXT rdata that is not well formed makes the line unreadable (the zone is not written)', () => {
    for (const bad of ['\\# 3 0161', '\\# 2 0561', '\\# 0']) {
      const z = parseZoneFile(`@ 300 IN TXT ${bad}\n`, D);
      assert.equal(z.records.length, 0, bad);
      assert.match(z.errors[0], /line 1: TXT rdata in the generic form/, bad);
    }
    // (`\# x 00`, no number after the \#: the strings "#" "x" "00" to BIND, which reads the generic form of TXT only
    // with a number there — zonefile-bind-types.test.ts.)
    assert.deepEqual(parseZoneFile('@ 300 IN TXT \\# x 00\n', D).records[0].txt, ['#', 'x', '00']);
    assert.deepEqual(parseZoneFile('@ 300 IN TYPE16 \\# 4 03616263\n@ 300 IN TYPE15 10 mail\n@ 300 IN TYPE65280 \\# 1 00\n', D).records.map((r) => [r.type, r.txt ?? r.rdata]), [
      ['TXT', ['abc']],
      ['MX', ['10', `mail.${D}`]],
      ['TYPE65280', ['\\#', '1', '00']],
    ]);
  });

  test('another known type in the generic form is read as BIND reads it (decoded: an MX the name server serves is an MX to the audit), never with \\# for its target', () => {
    // Kept opaque as TYPE15, an MX the name server served was none to the audit (the MX check, the SPF fix's mx).
    const z = parseZoneFile(`@ 300 IN TYPE15 \\# 8 000a046d61696c00\n@ 300 IN MX \\# 8 0014046d61696c00\nwww 300 IN TYPE5 \\# 6 046d61696c00\n`, D);
    assert.deepEqual(z.errors, []);
    assert.deepEqual(
      z.records.map((r) => [r.type, presentValue(r)]),
      [
        ['MX', '10 mail'],
        ['MX', '20 mail'],
        ['CNAME', 'mail'],
      ],
    );
    // Generic data that is no data of its type (BIND refuses the zone: "extra input data", "unexpected end of input"):
    // an error naming the line, no record.
    const bad = parseZoneFile(`@ 300 IN TYPE15 \\# 9 000a046d61696c00\n_dmarc 300 IN TYPE5 \\# 4 00000000\n`, D);
    assert.deepEqual(bad.records, []);
    assert.match(bad.errors[0], /^line 1: the MX record's data in RFC 3597's generic form .* the data holds 8 octets, where the length says 9/);
    assert.match(bad.errors[1], /^line 2: the CNAME record's data in RFC 3597's generic form is no CNAME data: 3 octets after its last field/);
  });
});

describe('files the panel refuses to write, with a message saying why and what to do', () => {
  test('a DNSSEC-signed zone file (RRSIG, NSEC): blocked at preview, a write refused (QA: it was written, leaving the old signatures)', async () => {
    const signed = BASE.replace(
      'www\tIN',
      '@\tIN\tDNSKEY\t257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n' +
        '@\tIN\tRRSIG\tTXT 13 2 3600 20270401000000 20270301000000 12345 florist.example. YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5emFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3\n' +
        '@\tIN\tNSEC\t_dmarc.florist.example. A NS SOA MX TXT RRSIG NSEC DNSKEY\nwww\tIN',
    );
    await refused(play, signed, /the zone file of florist\.example is DNSSEC-signed \(line 10: RRSIG\).*sign it again/);
    // An NSEC3 chain alone says the same.
    assert.equal(parseZoneFile(BASE + 'abc\tIN\tNSEC3\t1 0 10 AABB 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG\n', D).signed, 'line 17: NSEC3');
    assert.equal(parseZoneFile(BASE.replace('www\tIN', '@\tIN\tDNSKEY\t257 3 13 AAAA\n@\tIN\tCDS\t1 13 2 AABB\nwww\tIN'), D).signed, undefined, 'keys alone are no signed file');
  });

  test('$INCLUDE: the records it brings in are not read; blocked, saying to make the change by hand or move them into the file', async () => {
    await refused(play, BASE.replace('www\tIN', '$INCLUDE /etc/opendkim/keys/florist.example/default.txt\nwww\tIN'), /mailhealth does not write the zone file of florist\.example \(line 9: \$INCLUDE is not supported: mailhealth neither reads nor writes the records it brings in from "\/etc\/opendkim\/keys\/florist\.example\/default\.txt"\): make this change by hand .*move the included records into the zone file/);
  });

  test('$GENERATE: blocked, saying to make the change by hand or write the records out', async () => {
    await refused(play, BASE + '$GENERATE 1-10 host$ A 10.0.0.$\n', /mailhealth does not write the zone file of florist\.example \(line 17: \$GENERATE is not supported: .*\): make this change by hand .*write the generated records out/);
  });

  test('a UTF-8 byte order mark (BIND and NSD refuse the file): the records are read as meant, the write refused saying to save without it (QA: an invisible "cannot find a record type in \\"\\ufeff\\"")', async () => {
    const text = '\uFEFF' + BASE.replace(/^; .*\n/, '').replace(SOA3, '@ IN SOA ns1.newhost.example. hostmaster.newhost.example. 2026110101 3600 1800 1209600 300');
    const z = parseZoneFile(text, D);
    assert.equal(z.records[0].type, 'SOA');
    assert.equal(z.records[0].name, D, 'the first line read without the mark');
    assert.equal(z.records.length, parseZoneFile(text.slice(1), D).records.length);
    await refused(play, text, /line 1: the file starts with a UTF-8 byte order mark \(BOM.*save the file as UTF-8 without a BOM/);
  });
});

describe('SOA serial: bumped on every write, in the zone\'s own convention', () => {
  test('a date serial YYYYMMDDnn: today\'s, or old+1; a small counter: today\'s date serial (as before)', async () => {
    const results = await cycle(play, BASE);
    assert.deepEqual(results[0].serials, ['2026110101', '2027030100']);
    const counter = await cycle(play, BASE.replace('2026110101', '42'));
    assert.deepEqual(counter[0].serials, ['42', '2027030100']);
  });

  test('a Unix-time serial stays a Unix time (QA: it became 2027030100, and every later `date +%s` serial went backwards)', async () => {
    const unixToday = Math.floor(TODAY.getTime() / 1000);
    assert.equal(nextSerial(1767225600, TODAY), unixToday);
    assert.equal(nextSerial(unixToday, TODAY), unixToday + 1, 'a second write in the same second');
    assert.equal(nextSerial(unixToday + 500, TODAY), unixToday + 501, 'a serial ahead of the clock: old+1');
    // Date serials and counters as before.
    assert.equal(nextSerial(2026110101, TODAY), 2027030100);
    assert.equal(nextSerial(2099010100, TODAY), 2099010101);
    assert.equal(nextSerial(7, TODAY), 2027030100);
    assert.equal(nextSerial(4294967295, TODAY), 0, 'RFC 1982 wrap');
    const results = await cycle(play, BASE.replace('2026110101', '1767225600'));
    assert.deepEqual(results[0].serials, ['1767225600', String(unixToday)]);
    assert.ok(results.every((r) => r.status === 'applied' && Number(r.serials![1]) < 2 ** 31), JSON.stringify(results));
  });
});
