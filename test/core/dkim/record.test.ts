import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  gradeKey,
  parseDkimRecord,
  publicKeyFromPrivatePem,
  renderDkimRecord,
  sameKey,
} from '../../../src/core/dkim/record.js';
import { corpusMissing, corpusPath, readCorpus } from '../../helpers/corpora.js';

const ARC = 'dkim/arc-suite-dkim-txt-records.json';
const EC = 'dkim/mailauth-dkim-ec-dns.json';

interface ArcEntry {
  name: string;
  txt: string;
  rsa_bits: number | null;
}

describe('DKIM corpus: ARC suite txt-records', { skip: corpusPath(ARC) ? false : corpusMissing(ARC) }, () => {
  const entries = corpusPath(ARC) ? (JSON.parse(readCorpus(ARC)) as ArcEntry[]) : [];
  entries.forEach((e, i) => {
    it(`#${i} ${e.name} → ${e.rsa_bits ?? 'malformed'}`, () => {
      const r = parseDkimRecord(e.txt);
      assert.equal(r.bits, e.rsa_bits);
      if (e.rsa_bits === null) {
        assert.ok(r.errors.length > 0, 'malformed record must report errors');
        assert.equal(r.publicKey, null);
        assert.ok(r.errors.some((x) => /missing p=/.test(x)));
        assert.ok(r.errors.some((x) => /omgwhatsgoingon/.test(x)));
      } else {
        assert.deepEqual(r.errors, []);
        assert.equal(r.keyType, 'rsa');
        assert.equal(r.version, 'DKIM1');
        assert.ok(r.publicKey && !/\s/.test(r.publicKey), 'whitespace stripped from p=');
        const expectGrade = e.rsa_bits < 1024 ? 'fail' : e.rsa_bits < 2048 ? 'warn' : 'ok';
        assert.equal(gradeKey(r.bits, r.keyType), expectGrade);
      }
    });
  });

  it('the two copies of dummy._domainkey (folded differently) are the same key', () => {
    const dummies = entries.filter((e) => e.name === 'dummy._domainkey.example.org');
    assert.equal(dummies.length, 2);
    const [a, b] = dummies.map((d) => parseDkimRecord(d.txt).publicKey);
    assert.ok(sameKey(a, b));
  });
});

describe('DKIM corpus: mailauth EC dns.json', { skip: corpusPath(EC) ? false : corpusMissing(EC) }, () => {
  const dns = corpusPath(EC) ? (JSON.parse(readCorpus(EC)) as Record<string, { TXT: string[][] }>) : {};

  it('brisbane: Ed25519 raw key recognised, 256 bits, ok', () => {
    const [strings] = dns['brisbane._domainkey.football.example.com'].TXT;
    const r = parseDkimRecord(strings);
    assert.deepEqual(r.errors, []);
    assert.equal(r.keyType, 'ed25519');
    assert.equal(r.bits, 256);
    assert.equal(gradeKey(r.bits, r.keyType), 'ok');
    // Round trip through SPKI: the raw key and its SPKI wrapping compare equal, and rendering returns the raw key.
    const spki = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(r.publicKey!, 'base64')]),
      format: 'der',
      type: 'spki',
    })
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
    assert.ok(sameKey(r.publicKey, spki));
    assert.equal(parseDkimRecord(renderDkimRecord(spki, 'ed25519')).publicKey, r.publicKey);
  });

  it('test: RSA 1024 split over 4 character-strings is joined', () => {
    const [strings] = dns['test._domainkey.football.example.com'].TXT;
    assert.equal(strings.length, 4);
    const r = parseDkimRecord(strings);
    assert.deepEqual(r.errors, []);
    assert.equal(r.keyType, 'rsa');
    assert.equal(r.bits, 1024);
    assert.equal(gradeKey(r.bits, r.keyType), 'warn');
  });

  it('every DKIM entry parses without errors; the SPF entry is not a DKIM key', () => {
    for (const [name, { TXT }] of Object.entries(dns)) {
      for (const strings of TXT) {
        const r = parseDkimRecord(strings);
        if (name.includes('._domainkey.')) assert.deepEqual(r.errors, [], name);
        else assert.ok(r.errors.length > 0, name);
      }
    }
  });
});

function rsa(bits: number) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    spki: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    pkcs1: publicKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

describe('DKIM key encodings and lengths', () => {
  const k2048 = rsa(2048);

  for (const [bits, grade] of [
    [2048, 'ok'],
    [1024, 'warn'],
    [512, 'fail'],
  ] as const) {
    it(`generated RSA ${bits}: SPKI and PKCS#1 both read as ${bits} bits (${grade})`, () => {
      const k = bits === 2048 ? k2048 : rsa(bits);
      for (const p of [k.spki, k.pkcs1]) {
        const r = parseDkimRecord(`v=DKIM1; k=rsa; p=${p}`);
        assert.deepEqual(r.errors, []);
        assert.equal(r.bits, bits);
        assert.equal(gradeKey(r.bits, 'rsa'), grade);
      }
    });
  }

  it('SPKI vs PKCS#1 of the same key compare equal; different keys do not', () => {
    assert.notEqual(k2048.spki, k2048.pkcs1);
    assert.ok(sameKey(k2048.spki, k2048.pkcs1));
    assert.ok(sameKey(k2048.pkcs1, k2048.spki));
    const other = rsa(1024);
    assert.ok(!sameKey(k2048.spki, other.spki));
    assert.ok(!sameKey(k2048.pkcs1, other.pkcs1));
    assert.ok(!sameKey(k2048.spki, null));
  });

  it('SPKI compare ignores folding whitespace', () => {
    const folded = k2048.spki.replace(/(.{60})/g, '$1 ');
    assert.ok(sameKey(folded, k2048.pkcs1));
  });

  it('publicKeyFromPrivatePem gives the SPKI of the key pair, and renderDkimRecord publishes it', () => {
    const pub = publicKeyFromPrivatePem(k2048.privatePem);
    assert.equal(pub, k2048.spki);
    const rec = renderDkimRecord(pub);
    assert.equal(rec, `v=DKIM1; k=rsa; p=${k2048.spki}`);
    const r = parseDkimRecord(rec);
    assert.deepEqual(r.errors, []);
    assert.equal(r.bits, 2048);
    assert.ok(sameKey(r.publicKey, pub));
  });

  it('Ed25519 private key → SPKI → raw 32-byte record', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pub = publicKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const rec = renderDkimRecord(pub, 'ed25519');
    const r = parseDkimRecord(rec);
    assert.deepEqual(r.errors, []);
    assert.equal(r.keyType, 'ed25519');
    assert.equal(Buffer.from(r.publicKey!, 'base64').length, 32);
    assert.equal(r.bits, 256);
    assert.ok(sameKey(r.publicKey, pub));
  });

  it('Ed25519 published as SPKI (not raw) is an error', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const r = parseDkimRecord(`v=DKIM1; k=ed25519; p=${spki}`);
    assert.equal(r.bits, null);
    assert.ok(r.errors.some((e) => /raw 32-byte/.test(e)));
  });

  it('garbage p= is reported, not thrown', () => {
    const r1 = parseDkimRecord('v=DKIM1; p=not*base64');
    assert.ok(r1.errors.some((e) => /base64/.test(e)));
    const r2 = parseDkimRecord('v=DKIM1; p=AAAAAAAA');
    assert.equal(r2.bits, null);
    assert.ok(r2.errors.some((e) => /RSA/.test(e)));
  });
});

describe('DKIM tag-list rules', () => {
  const key = rsa(1024).spki;

  it('revoked: empty p=', () => {
    const r = parseDkimRecord('v=DKIM1; k=rsa; p=');
    assert.equal(r.revoked, true);
    assert.equal(r.publicKey, null);
    assert.equal(r.bits, null);
    assert.deepEqual(r.errors, []);
    assert.equal(gradeKey(r.bits, r.keyType), 'fail');
  });

  it('missing p= is an error, not a revocation', () => {
    const r = parseDkimRecord('v=DKIM1; k=rsa');
    assert.equal(r.revoked, false);
    assert.ok(r.errors.some((e) => /missing p=/.test(e)));
  });

  it('t=y testing and t=s strict flags', () => {
    const r = parseDkimRecord(`v=DKIM1; t=y; p=${key}`);
    assert.equal(r.testing, true);
    assert.equal(r.strict, false);
    assert.ok(r.warnings.some((w) => /testing/.test(w)));
    const r2 = parseDkimRecord(`v=DKIM1; t = y:s ; p=${key}`);
    assert.equal(r2.testing, true);
    assert.equal(r2.strict, true);
    const r3 = parseDkimRecord(`v=DKIM1; t=s; p=${key}`);
    assert.equal(r3.testing, false);
    assert.equal(r3.strict, true);
  });

  it('duplicate tag invalidates the record', () => {
    const r = parseDkimRecord(`v=DKIM1; k=rsa; k=rsa; p=${key}`);
    assert.ok(r.errors.some((e) => /duplicate tag "k"/.test(e)));
    const r2 = parseDkimRecord(`v=DKIM1; p=${key}; p=`);
    assert.ok(r2.errors.some((e) => /duplicate tag "p"/.test(e)));
    assert.equal(r2.revoked, false, 'first occurrence wins');
  });

  it('v present but not first is an error; v absent is fine', () => {
    const r = parseDkimRecord(`k=rsa; v=DKIM1; p=${key}`);
    assert.ok(r.errors.some((e) => /first tag/.test(e)));
    const r2 = parseDkimRecord(`k=rsa; p=${key}`);
    assert.deepEqual(r2.errors, []);
    assert.equal(r2.version, undefined);
    assert.equal(r2.bits, 1024);
    const r3 = parseDkimRecord(`v=DKIM2; p=${key}`);
    assert.ok(r3.errors.some((e) => /version/.test(e)));
  });

  it('whitespace around = and ; and a trailing ; are tolerated; unknown tags ignored', () => {
    const r = parseDkimRecord(`  v = DKIM1 ;\tk =\trsa ; x_foo = bar ; n=some notes; p = ${key.slice(0, 50)} ${key.slice(50)} ;`);
    assert.deepEqual(r.errors, []);
    assert.equal(r.bits, 1024);
    assert.equal(r.publicKey, key);
    assert.equal(r.tags.x_foo, 'bar');
    assert.equal(r.tags.n, 'some notes');
  });

  it('h= hashes; sha1-only warns (RFC 8301)', () => {
    const r = parseDkimRecord(`v=DKIM1; h=sha1:sha256; p=${key}`);
    assert.deepEqual(r.hashes, ['sha1', 'sha256']);
    assert.deepEqual(r.warnings, []);
    // Hash names as written (RFC 6376 §3.2): SHA256 is no algorithm a verifier knows.
    const upper = parseDkimRecord(`v=DKIM1; h=sha1:SHA256; p=${key}`);
    assert.deepEqual(upper.hashes, ['sha1', 'SHA256']);
    assert.ok(upper.warnings.some((w) => /verifiers know sha256, not SHA256/.test(w)) || upper.warnings.some((w) => /RFC 8301/.test(w)), upper.warnings.join('; '));
    const r2 = parseDkimRecord(`v=DKIM1; h=sha1; p=${key}`);
    assert.ok(r2.warnings.some((w) => /RFC 8301/.test(w)));
  });

  it('unknown k= and non-email s= are errors', () => {
    assert.ok(parseDkimRecord(`v=DKIM1; k=dsa; p=${key}`).errors.some((e) => /key type/.test(e)));
    assert.ok(parseDkimRecord(`v=DKIM1; s=tlsrpt; p=${key}`).errors.some((e) => /service/.test(e)));
    assert.deepEqual(parseDkimRecord(`v=DKIM1; s=email:*; p=${key}`).errors, []);
  });

  it('gradeKey thresholds', () => {
    assert.equal(gradeKey(1023, 'rsa'), 'fail');
    assert.equal(gradeKey(1024, 'rsa'), 'warn');
    assert.equal(gradeKey(2047, 'rsa'), 'warn');
    assert.equal(gradeKey(2048, 'rsa'), 'ok');
    assert.equal(gradeKey(4096, 'rsa'), 'ok');
    assert.equal(gradeKey(256, 'ed25519'), 'ok');
    assert.equal(gradeKey(null, 'rsa'), 'fail');
  });
});
