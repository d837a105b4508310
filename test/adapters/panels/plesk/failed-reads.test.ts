// Plesk reads that fail or answer in another shape are never settings (QA h3).
// D1: XML `mail get_prefs` answered HTTP 500, empty or `<status>error</status>` was read as "not signing": a healthy
//     domain got dkim.signing-off, and the DKIM fix turned signing on (domain_pref) looking for a key.
// D15: a record missing its type, host or value gave raw JavaScript errors as finding text ("Cannot read properties of
//      undefined (reading 'toUpperCase')", "s is not iterable"); a TTL given as a string was read as one day.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { DomainAudit } from '../../../../src/core/model.js';
import { applyPlan } from '../../../../src/core/plans/apply.js';
import { makePlan } from '../../../../src/core/plans/index.js';
import { rejectsWith } from '../../../helpers/panel-errors.js';
import { DOMAIN, healthyRecords, migratedRecords, page, pleskWorld, type RestFault, type World } from './world.js';

let w: World | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

const isPrefs: (body: string) => boolean = (body) => body.includes('<mail><get_prefs>');
/** Answer the XML mail get_prefs packet with `answer`. */
const prefs =
  (status: number, text: string): RestFault =>
  (req) =>
    req.path === '/enterprise/control/agent.php' && isPrefs(req.body?.text ?? '') ? page(status, text) : null;

const XML_ERROR = '<?xml version="1.0"?><packet><system><status>error</status><errcode>1006</errcode><errtext>Permission denied</errtext></system></packet>';
const FAILURES: [string, RestFault, RegExp][] = [
  ['HTTP 500 with an HTML page', prefs(500, '<html><body><h1>500 Internal Server Error</h1></body></html>'), /Plesk XML API \(mail get_prefs\): HTTP 500: 500 Internal Server Error/],
  ['200 with an empty body', prefs(200, ''), /Plesk XML API \(mail get_prefs\): unexpected answer \(HTTP 200, an empty body\)/],
  ['200 with a login page', prefs(200, '<!DOCTYPE html><html><body><form><input type="password"></form></body></html>'), /Plesk XML API \(mail get_prefs\): unexpected answer \(HTTP 200, not an XML API packet\)/],
  ['<status>error</status>', prefs(200, XML_ERROR), /Plesk XML API \(mail get_prefs\): Permission denied \(1006\)/],
  ['a packet without a status', prefs(200, '<?xml version="1.0"?><packet><mail><get_prefs><result></result></get_prefs></mail></packet>'), /a packet without <status>ok<\/status>/],
  [
    'spam-protect-sign neither true nor false',
    prefs(200, '<?xml version="1.0"?><packet><mail><get_prefs><result><status>ok</status><prefs><spam-protect-sign>maybe</spam-protect-sign></prefs></result></get_prefs></mail></packet>'),
    /XML mail get_prefs for alice\.example had an unexpected shape \(spam-protect-sign "maybe", not true or false\)/,
  ],
];

const severe = (a: DomainAudit) => a.findings.filter((f) => f.severity === 'fail' || f.severity === 'warn').map((f) => `${f.rule}: ${f.message.slice(0, 100)}`);
const rawJs = /is not iterable|Cannot read properties|undefined \(reading/;

describe('Plesk: a failed XML mail get_prefs makes the settings unreadable, never "not signing" (D1)', () => {
  for (const [name, fault, message] of FAILURES) {
    it(`${name}: PanelError; the healthy domain's audit gains no warning, only the unknown finding`, async () => {
      w = await pleskWorld(healthyRecords());
      assert.equal((await w.panel.readMailSettings(DOMAIN)).dkim.signing, true, 'signing when read right');
      w.rest.push(fault);
      const e = await rejectsWith(w.panel.readMailSettings(DOMAIN), 'other', message);
      if (!/unexpected shape/.test(e.message)) assert.match(e.message, /^Plesk's mail settings of alice\.example could not be read, so whether it signs its mail with DKIM is not known: /);
      const a = await w.audit();
      assert.deepEqual(severe(a), [], 'no fail/warn from a call that failed');
      assert.equal(a.findings.find((f) => f.rule === 'dns.panel-settings-unreadable')?.severity, 'unknown');
      assert.doesNotMatch(JSON.stringify(a), rawJs);
    });
  }

  it('the DKIM fix: no plan, no `domain_pref` (signing switched on), no record written', async () => {
    for (const [, fault] of FAILURES.slice(0, 4)) {
      w = await pleskWorld(migratedRecords());
      w.rest.push(fault);
      const plan = await makePlan({ domain: DOMAIN, check: 'dkim' }, { panel: w.panel, resolver: w.resolver }).catch((e: Error) => e);
      if (!(plan instanceof Error)) await applyPlan({ domain: DOMAIN, check: 'dkim', planHash: plan.planHash }, w.deps()).catch(() => undefined);
      assert.deepEqual(
        w.state.calls.filter((c) => c.startsWith('bin:')),
        [],
        'no plesk bin call',
      );
      assert.ok(plan instanceof Error, `no plan: ${plan instanceof Error ? '' : JSON.stringify({ actions: plan.actions, notes: plan.notes })}`);
      assert.match(plan.message, /The panel could not provide the server's mail settings: .*mail get_prefs/);
      await w.close();
      w = null;
    }
  });

  it('an answer without spam-protect-sign (not reported): as before, the key decides — no error', async () => {
    w = await pleskWorld(healthyRecords());
    w.rest.push(prefs(200, '<?xml version="1.0"?><packet><mail><get_prefs><result><status>ok</status><prefs><mailservice>true</mailservice></prefs></result></get_prefs></mail></packet>'));
    const s = await w.panel.readMailSettings(DOMAIN);
    assert.equal(s.routing, 'local');
    assert.equal(s.dkim.signing, false, 'no key file off the server, the switch not reported: not known to sign');
  });
});

describe('Plesk: records of another shape are a clear error, never a JavaScript one (D15)', () => {
  const edit =
    (change: (r: Record<string, unknown>) => void): RestFault =>
    (req, pass) =>
      req.method === 'GET' && req.path === '/api/v2/dns/records'
        ? pass().then((res) => {
            const list = res.json as Record<string, unknown>[];
            for (const r of list) if (r.type === 'TXT' && String(r.value).startsWith('v=spf1')) change(r);
            return { status: res.status, text: JSON.stringify(list), json: list };
          })
        : null;
  const cases: [string, (r: Record<string, unknown>) => void, RegExp][] = [
    ['no type', (r) => delete r.type, /record \d+ \(id \d+\) has no type/],
    ['no host', (r) => delete r.host, /record \d+ \(id \d+\), TXT, has no host/],
    ['value null', (r) => (r.value = null), /record \d+ \(id \d+\), TXT at alice\.example\., has no value \(null\)/],
    ['no id', (r) => delete r.id, /record \d+ has no id/],
    ['a TTL that is no number', (r) => (r.ttl = 'one day'), /has TTL "one day", not a number of seconds/],
    ['opt an object', (r) => (r.opt = { x: 1 }), /has opt \{"x":1\}, not text/],
  ];
  for (const [name, change, message] of cases) {
    it(`an SPF record with ${name}: PanelError naming the record; the audit says the zone is unreadable in those words`, async () => {
      w = await pleskWorld(healthyRecords());
      w.rest.push(edit(change));
      const e = await rejectsWith(w.panel.readZone(DOMAIN), 'other', new RegExp(`^Plesk's answer to GET /dns/records for alice\\.example had an unexpected shape \\(.*${message.source}`));
      assert.doesNotMatch(e.message, rawJs);
      const a = await w.audit();
      assert.doesNotMatch(JSON.stringify(a), rawJs);
      assert.equal(a.findings.find((f) => f.rule === 'dns.panel-zone-unreadable')?.severity, 'unknown');
    });
  }

  it('a TTL and an id given as strings of digits are read as those numbers (not a TTL of one day)', async () => {
    w = await pleskWorld(healthyRecords());
    w.rest.push(
      edit((r) => {
        r.ttl = '3600';
        r.id = String(r.id);
      }),
    );
    const spf = (await w.panel.readZone(DOMAIN)).records.find((r) => r.type === 'TXT' && r.value.startsWith('v=spf1'))!;
    assert.equal(spf.ttl, 3600);
    assert.match(spf.ref ?? '', /^\d+$/);
  });

  it('a domain listed without its name: a clear error, not a JavaScript one', async () => {
    w = await pleskWorld(healthyRecords());
    w.rest.push((req, pass) =>
      req.method === 'GET' && req.path === '/api/v2/domains'
        ? pass().then((res) => {
            const list = (res.json as Record<string, unknown>[]).map(({ name: _n, ascii_name: _a, ...d }) => d);
            return { status: res.status, text: JSON.stringify(list), json: list };
          })
        : null,
    );
    const e = await rejectsWith(w.panel.readZone(DOMAIN), 'other', /Plesk's answer to GET \/domains had an unexpected shape \(domain 1 \(id \d+\) has no name\)/);
    assert.doesNotMatch(e.message, rawJs);
  });
});
