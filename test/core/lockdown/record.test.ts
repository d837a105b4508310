import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLockdownRecord, parseLockdown, renderLockdown, type LockdownClass } from '../../../src/core/lockdown/record.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';

const EXAMPLES = 'mailchannels/lockdown-examples.json';

interface Case {
  txt: string;
  expect: LockdownClass;
  why?: string;
}

describe('lockdown corpus: team examples', { skip: corpusPath(EXAMPLES) ? false : corpusMissing(EXAMPLES) }, () => {
  const cases = corpusPath(EXAMPLES) ? (JSON.parse(readCorpus(EXAMPLES)) as { cases: Case[] }).cases : [];

  it('has cases', () => assert.ok(cases.length >= 12));

  cases.forEach((c, i) => {
    it(`#${i} ${JSON.stringify(c.txt)} → ${c.expect}`, () => {
      const r = parseLockdown(c.txt);
      assert.equal(r.class, c.expect, `problems: ${JSON.stringify(r.problems)}`);
      assert.equal(r.valid, c.expect === 'valid' || c.expect === 'valid-with-warning');
      if (c.expect === 'valid') assert.deepEqual(r.problems, []);
      else assert.ok(r.problems.length > 0, 'a non-valid class must say why');
      // Every field value in the record is reported under its field name.
      for (const f of c.txt.split(/\s+/).slice(1)) {
        const [name, value] = f.split('=');
        if (['auth', 'senderid', 'sidw', 'cfid'].includes(name) && value)
          assert.ok((r[name as 'auth'] as string[]).includes(value), `${name}=${value} not reported`);
      }
    });
  });
});

describe('lockdown parser: own cases', () => {
  it('fields are collected in order', () => {
    const r = parseLockdown('v=mc1 auth=a senderid=p|x-authuser|u@example.com auth=b sidw=p|x-authsender|b*@example.com cfid=w.workers.dev');
    assert.equal(r.version, 'mc1');
    assert.deepEqual(r.auth, ['a', 'b']);
    assert.deepEqual(r.senderid, ['p|x-authuser|u@example.com']);
    assert.deepEqual(r.sidw, ['p|x-authsender|b*@example.com']);
    assert.deepEqual(r.cfid, ['w.workers.dev']);
    assert.equal(r.class, 'valid-with-warning');
  });

  it('character-strings are joined', () => {
    const r = parseLockdown(['v=mc1 auth=exam', 'plecorp']);
    assert.equal(r.class, 'valid');
    assert.deepEqual(r.auth, ['examplecorp']);
  });

  it('unknown fields are ignored with a warning; alone they authorise nothing', () => {
    const r = parseLockdown('v=mc1 auth=a foo=bar');
    assert.equal(r.class, 'valid-with-warning');
    assert.deepEqual(r.unknownFields, ['foo=bar']);
    assert.equal(parseLockdown('v=mc1 auid=a').class, 'invalid');
  });

  it('v=mc1 must come first', () => {
    const r = parseLockdown('auth=a v=mc1');
    assert.equal(r.class, 'invalid');
    assert.ok(r.problems.some((p) => /first/.test(p)));
  });

  it('malformed senderid is suspect', () => {
    assert.equal(parseLockdown('v=mc1 senderid=joe@example.com').class, 'suspect');
    assert.equal(parseLockdown('v=mc1 senderid=a,b').class, 'suspect');
  });

  it('empty value wins over everything else (invalid)', () => {
    assert.equal(parseLockdown('v=mc1 auth=a senderid=').class, 'invalid');
  });

  it('isLockdownRecord', () => {
    assert.ok(isLockdownRecord('v=mc1 auth=a'));
    assert.ok(isLockdownRecord('v=mc1; auid=a'));
    assert.ok(!isLockdownRecord('v=spf1 -all'));
  });

  it('renderLockdown is canonical and parses back as valid', () => {
    const txt = renderLockdown({ auth: ['myhost', 'other', 'myhost'], senderid: ['p|x-authuser|joe@example.com'], sidw: [] });
    assert.equal(txt, 'v=mc1 auth=myhost auth=other senderid=p|x-authuser|joe@example.com');
    const r = parseLockdown(txt);
    assert.equal(r.class, 'valid');
    assert.deepEqual(r.auth, ['myhost', 'other']);
    assert.throws(() => renderLockdown({}), RangeError);
    assert.throws(() => renderLockdown({ auth: ['a,b'] }), RangeError);
    assert.throws(() => renderLockdown({ auth: [' '] }), RangeError);
  });
});
