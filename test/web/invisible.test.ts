// Bidi overrides and invisible formatting characters in record text never reach a page raw: they are shown as
// escapes (U+202E → \u202E) wherever record text, evidence, notes or messages are shown — the domain page's evidence,
// the fix preview, the fix result, the bulk preview, the history. Form values sent back unchanged stay as they are.
// Demo panel, loopback DNS, real SQLite.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { escapeShown, evidenceLines, otherEvidence, recordText, showInvisible } from '../../src/web/view-model.js';
import { demoWorld, login, type TestWorld } from './helpers.js';

/** The characters the pages must never carry raw (at least these). */
const REQUIRED = [
  ...Array.from({ length: 5 }, (_, i) => 0x200b + i), // U+200B–U+200F
  ...Array.from({ length: 5 }, (_, i) => 0x202a + i), // U+202A–U+202E
  ...Array.from({ length: 4 }, (_, i) => 0x2066 + i), // U+2066–U+2069
  0xfeff,
];
const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, '0');
const RAW = new RegExp(`[${REQUIRED.map((cp) => `\\u${hex(cp)}`).join('')}]`, 'u');
const rawAt = (html: string) => {
  const m = RAW.exec(html);
  return m ? `raw U+${hex(m[0].codePointAt(0)!)} in …${JSON.stringify(html.slice(Math.max(0, m.index - 80), m.index + 20))}` : '';
};

/** A zone-file escape of a character: its UTF-8 bytes as \DDD. */
const zoneEscape = (cp: number) => [...Buffer.from(String.fromCodePoint(cp), 'utf8')].map((b) => `\\${String(b).padStart(3, '0')}`).join('');

/** A JSON answer: the characters as \uXXXX escapes inside strings (never raw), the same text once parsed. */
async function jsonEscaped(who: Awaited<ReturnType<typeof login>>, path: string): Promise<void> {
  const r = await who.agent.get(path).expect(200);
  assert.match(String(r.headers['content-type']), /json/);
  assert.equal(rawAt(r.text), '', path);
  assert.ok(r.text.includes('\\u202e'), `${path}: U+202E written as an escape`);
  assert.ok(JSON.stringify(JSON.parse(r.text)).includes('\u202E'), `${path}: the same text once parsed`);
}

describe('invisible formatting characters in record text are shown escaped', () => {
  let w: TestWorld;
  before(async () => {
    w = await demoWorld({});
  });
  after(async () => w.close());

  test('unit: every required character (and a few more) becomes \\uXXXX; text around it, and HTML escaping, unchanged', () => {
    for (const cp of REQUIRED) assert.equal(showInvisible(`a${String.fromCodePoint(cp)}b`), `a\\u${hex(cp)}b`);
    assert.equal(showInvisible('x\u2060\u00AD\u061Cy'), 'x\\u2060\\u00AD\\u061Cy');
    assert.equal(showInvisible('tag\u{E0041}'), 'tag\\u{E0041}');
    assert.equal(showInvisible('tab\tnew\nline é 中文'), 'tab\tnew\nline é 中文');
    // A carriage return is a control character like the others (an HTML parser turns it into a line break where text is
    // shown pre-formatted): shown escaped, as the comment on INVISIBLE always said.
    assert.equal(showInvisible('a\r\nb\rc'), 'a\\u000D\nb\\u000Dc');
    assert.equal(escapeShown('<b title="x">\u202Eevil</b>'), '&lt;b title=&#34;x&#34;&gt;\\u202Eevil&lt;/b&gt;');
    assert.equal(recordText({ name: 'x.example', ttl: 300, type: 'TXT', value: '', txt: ['v=spf1 \u202Ella+ -all'] }), 'x.example. 300 IN TXT "v=spf1 \\u202Ella+ -all"');
    assert.deepEqual(evidenceLines(['a\u200Bb', { v: 'c\u2066d' }]), ['a\\u200Bb', '{"v":"c\\u2066d"}']);
    assert.deepEqual(otherEvidence({ rule: 'r', check: 'spf', severity: 'info', message: 'm', evidence: { lookups: ['\uFEFFx'] } }), [['lookups', ['\\uFEFFx']]]);
  });

  test('domain page, fix preview, bulk preview, fix result and history: no raw character, the escapes instead', async () => {
    const p = join(w.demo!.panelDir, 'zones', 'florist.example.db');
    const original = readFileSync(p, 'utf8');
    // The QA case (U+202E reverses "+all" into "lla+") plus every other required character, in the SPF record.
    const hidden = REQUIRED.map(zoneEscape).join('');
    writeFileSync(p, original.replace('include:relay.mailchannels.net -all"', `include:relay.mailchannels.net ${zoneEscape(0x202e)}lla+ x${hidden}y -all"`));
    await new Promise((r) => setTimeout(r, 300)); // the demo DNS reloads the zone
    try {
      const alice = await login(w.app, 'alice');
      await alice.agent.post('/domains/florist.example/audit').type('form').send({ _csrf: alice.csrf }).expect(303);
      const domain = await alice.agent.get('/domains/florist.example').expect(200);
      assert.equal(rawAt(domain.text), '');
      assert.match(domain.text, /\\u202Ella\+/, 'the evidence shows the escape');
      for (const cp of REQUIRED) assert.ok(domain.text.includes(`\\u${hex(cp)}`), `U+${hex(cp)} shown escaped`);
      await jsonEscaped(alice, '/api/domains/florist.example');

      const preview = await alice.agent.get('/domains/florist.example/fix?check=spf').expect(200);
      assert.equal(rawAt(preview.text), '');
      assert.match(preview.text, /\\u202Ella\+/);
      const planHash = /name="planHash" value="([^"]+)"/.exec(preview.text)![1];

      const root = await login(w.app, 'root');
      const bulk = await root.agent.post('/bulk/fix/preview').type('form').send({ _csrf: root.csrf, check: 'spf', domains: ['florist.example'] }).expect(200);
      assert.equal(rawAt(bulk.text), '');

      const result = await alice.agent.post('/domains/florist.example/fix').type('form').send({ _csrf: alice.csrf, check: 'spf', planHash }).expect(200);
      assert.equal(rawAt(result.text), '');
      assert.match(result.text, /\\u202Ella\+/, 'the record replaced, as it was');

      const history = await alice.agent.get('/history').expect(200);
      assert.equal(rawAt(history.text), '');
      assert.match(history.text, /\\u202Ella\+/);

      await jsonEscaped(alice, '/api/changes');
    } finally {
      writeFileSync(p, original);
    }
  });

  test('a value sent back with a form comes back unchanged (the pasted bounce), its explanation escaped', async () => {
    const alice = await login(w.app, 'alice');
    const text = '550 5.7.1 sender is not authorized \u202Etxet\u202C From: a@florist.example';
    const r = await alice.agent.post('/explain').type('form').send({ _csrf: alice.csrf, text });
    const area = /<textarea[^>]*>([^<]*)<\/textarea>/.exec(r.text)![1];
    assert.equal(area, text, 'the textarea holds exactly what was pasted');
    assert.equal(rawAt(r.text.replace(/<textarea[\s\S]*?<\/textarea>/, '')), '', 'nothing else on the page carries it raw');
  });
});
