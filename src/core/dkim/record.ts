// DKIM key records (RFC 6376 §3.6.1, RFC 8301, RFC 8463): parse, grade, render, compare.
// Pure: no I/O. node:crypto is used only for computation on key bytes (parsing DER, deriving a public key).
//
// Parsing rules (mail-auth.md §2):
// - tag-list `tag=value; tag=value`, whitespace (FWS: space, tab, CR, LF — no other white space) allowed around `=`
//   and `;`, a trailing `;` is fine; tag names are case-sensitive (RFC 6376 §3.2: `P=` is an unknown tag, ignored like
//   any other, not `p=`), and so are the values of k=, s= and t= (§3.2: "Values MUST be processed as case sensitive
//   unless the specific tag description of semantics specifies case insensitivity" — none of theirs does): `k=RSA` is an
//   unknown key type, `s=EMAIL` an unknown service type, `t=Y` an unknown flag, as dkimpy and Mail::DKIM read them;
// - unknown tags are ignored (kept in `tags`), a duplicate tag invalidates the record (RFC 6376 §3.2);
// - `v`, if present, must be the first tag and equal `DKIM1`;
// - `p` is required; an empty `p=` means the key was revoked; FWS inside `p=` (folding) is stripped — any other
//   character, a no-break space too, makes it invalid base64;
// - `p=` for RSA may be SubjectPublicKeyInfo DER or bare RSAPublicKey (PKCS#1) DER; bits come from the modulus (the
//   bare form is valid, but widely deployed verifiers fail it: verifierRefusals);
// - `p=` for Ed25519 is the raw 32-byte key (RFC 8463), 256 bits.
// Nothing here throws on bad input: problems are returned as `errors` (record unusable) or `warnings`.
import { isBareRsaPublicKey, rsaModulusBits, rsaPublicKeyDer, rsaSpkiFromPublicKey } from './der.js';
import { createPublicKey, type KeyObject } from 'node:crypto';

export type DkimKeyType = 'rsa' | 'ed25519' | (string & {});
export type KeyGrade = 'fail' | 'warn' | 'ok';

/**
 * Why a record with a usable key still does not serve a server's signatures, as a kind to decide on and a text to
 * show: `k=` that is not the key's type, a malformed record, a character-string over 255 bytes, an `h=` that leaves
 * out sha256 (hashRefusal), `t=y` testing mode — or, valid by RFC 6376, fails them at receivers whose widely deployed
 * verifiers read the record otherwise (verifierRefusals): `p=` as a bare RSAPublicKey, a `g=` other than `*`.
 */
export interface DkimProblem {
  kind: 'key-type' | 'malformed' | 'long-string' | 'hash' | 'testing' | 'encoding' | 'granularity';
  text: string;
}
/** A non-fatal remark of the parser: `h=` that does not allow sha256, or `t=y`. */
export interface DkimRemark extends DkimProblem {
  kind: 'hash' | 'testing';
}

export interface DkimRecord {
  /** Every tag in record order, names as written (case-sensitive), values trimmed (`p` with all whitespace removed). First occurrence wins. */
  tags: Record<string, string>;
  version?: string;
  keyType: DkimKeyType;
  /** Normalized base64 of `p=` (whitespace stripped); null when `p=` is missing or empty (revoked). */
  publicKey: string | null;
  /** `p=` present but empty. */
  revoked: boolean;
  /** `t=` contains `y`. */
  testing: boolean;
  /** `t=` contains `s`. */
  strict: boolean;
  /** `h=` hash algorithms as written (case-sensitive), when the tag is present. */
  hashes?: string[];
  /** Key length in bits, null when unknown (missing, revoked, undecodable). */
  bits: number | null;
  /** Reasons the record is unusable / malformed. Empty = structurally valid. */
  errors: string[];
  /** Non-fatal remarks (testing mode, obsolete hashes, odd service type). */
  warnings: string[];
  /** The same remarks with their kind (`warnings` is their texts, in order). */
  remarks: DkimRemark[];
}

const TAG_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 raw key bytes. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Remove all whitespace (folding) from a base64 string. */
export function normalizeBase64(s: string): string {
  return s.replace(/\s+/g, '');
}

/**
 * FWS (RFC 6376 §3.2: space, tab, CR, LF) — the only white space a tag-list may hold around its tags and inside a base64
 * value. JavaScript's \s and trim() also take U+00A0 and other Unicode spaces, which verifiers do not skip (Mail::DKIM:
 * "invalid data").
 */
const FWS = /[ \t\r\n]+/g;
const trimFws = (s: string) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');

/** Split a tag-list into [name, value] pairs; parts without `=` are reported. */
function splitTagList(text: string): { pairs: [string, string][]; bad: string[] } {
  const pairs: [string, string][] = [];
  const bad: string[] = [];
  for (const raw of text.split(';')) {
    const part = trimFws(raw);
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      bad.push(part);
      continue;
    }
    const name = trimFws(part.slice(0, eq));
    const value = trimFws(part.slice(eq + 1));
    if (!TAG_NAME.test(name)) {
      bad.push(part);
      continue;
    }
    // Tag names are case-sensitive (RFC 6376 §3.2): "P=" is an unknown tag, not p= — verifiers find no key in it.
    pairs.push([name, value]);
  }
  return { pairs, bad };
}

interface KeyInfo {
  key: KeyObject;
  /** The encoding `p=` used. */
  encoding: 'spki' | 'pkcs1' | 'raw';
}

function tryKey(der: Buffer, type: 'spki' | 'pkcs1'): KeyObject | null {
  try {
    return createPublicKey({ key: der, format: 'der', type });
  } catch {
    return null;
  }
}

/** Decode a base64 key into a KeyObject: SPKI DER, PKCS#1 RSAPublicKey DER, or raw 32-byte Ed25519. */
function decodeKey(b64: string, keyType?: DkimKeyType): KeyInfo | null {
  const norm = normalizeBase64(b64);
  if (norm === '' || !BASE64.test(norm)) return null;
  const der = Buffer.from(norm, 'base64');
  if (keyType !== 'rsa' && der.length === 32) {
    const k = tryKey(Buffer.concat([ED25519_SPKI_PREFIX, der]), 'spki');
    if (k) return { key: k, encoding: 'raw' };
  }
  if (keyType === 'ed25519') {
    const k = tryKey(der, 'spki');
    return k ? { key: k, encoding: 'spki' } : null;
  }
  const spki = tryKey(der, 'spki');
  if (spki) return { key: spki, encoding: 'spki' };
  const pkcs1 = tryKey(der, 'pkcs1');
  if (pkcs1) return { key: pkcs1, encoding: 'pkcs1' };
  return null;
}

/** Parse a DKIM key TXT record. Pass the character-strings as an array to have them joined (no separator). */
export function parseDkimRecord(txt: string | readonly string[]): DkimRecord {
  const text = typeof txt === 'string' ? txt : txt.join('');
  const errors: string[] = [];
  const warnings: string[] = [];
  const remarks: DkimRemark[] = [];
  const remark = (kind: DkimRemark['kind'], text: string) => {
    warnings.push(text);
    remarks.push({ kind, text });
  };
  const tags: Record<string, string> = {};
  const { pairs, bad } = splitTagList(text);
  for (const b of bad) errors.push(`malformed tag "${b}" (expected tag=value)`);

  pairs.forEach(([name, value], i) => {
    if (Object.prototype.hasOwnProperty.call(tags, name)) {
      errors.push(`duplicate tag "${name}" (RFC 6376 §3.2: a duplicate tag invalidates the record)`);
      return;
    }
    if (name === 'v' && i !== 0) errors.push('v= must be the first tag when present');
    tags[name] = name === 'p' ? value.replace(FWS, '') : value;
  });

  const rec: DkimRecord = {
    tags,
    keyType: 'rsa',
    publicKey: null,
    revoked: false,
    testing: false,
    strict: false,
    bits: null,
    errors,
    warnings,
    remarks,
  };

  if (tags.v !== undefined) {
    rec.version = tags.v;
    if (tags.v !== 'DKIM1') errors.push(`unsupported version v=${tags.v} (expected DKIM1)`);
  }

  if (tags.k !== undefined) {
    rec.keyType = tags.k;
    if (tags.k !== 'rsa' && tags.k !== 'ed25519') errors.push(`unknown key type k=${tags.k}${caseOnly(tags.k, ['rsa', 'ed25519'])}`);
  }

  if (tags.h !== undefined) {
    // Hash names as written: values are case-sensitive (RFC 6376 §3.2) and an unknown algorithm is ignored (§3.6.1), so
    // h=SHA256 lists none a verifier knows — Mail::DKIM refuses the key (second-judge QA: it was read as sha256).
    rec.hashes = tags.h
      .split(':')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    if (rec.hashes.length > 0 && rec.hashes.every((h) => h === 'sha1'))
      remark('hash', 'h=sha1 only: rsa-sha1 is obsolete (RFC 8301); verifiers will reject signatures');
    else if (!rec.hashes.includes('sha256')) remark('hash', `h=${tags.h} does not allow sha256${rec.hashes.map((h) => caseOnly(h, ['sha1', 'sha256'])).find(Boolean) ?? ''}`);
  }

  if (tags.s !== undefined) {
    const services = tags.s.split(':').map(trimFws);
    if (!services.includes('*') && !services.includes('email'))
      errors.push(`service type s=${tags.s} does not include email or *${services.map((x) => caseOnly(x, ['email'])).find((x) => x) ?? ''}`);
  }

  if (tags.t !== undefined) {
    // Unknown flags are ignored (RFC 6376 §3.6.1): t=Y is not testing mode.
    const flags = tags.t.split(':').map(trimFws);
    rec.testing = flags.includes('y');
    rec.strict = flags.includes('s');
    if (rec.testing) remark('testing', 't=y: testing mode, receivers treat signed mail like unsigned mail');
  }

  if (tags.p === undefined) {
    errors.push(tags.P !== undefined ? 'missing p= (public key is required; tag names are case-sensitive, so P= is not p=)' : 'missing p= (public key is required)');
  } else if (tags.p === '') {
    rec.revoked = true;
  } else if (!BASE64.test(tags.p)) {
    rec.publicKey = tags.p;
    errors.push('p= is not valid base64');
  } else {
    rec.publicKey = tags.p;
    rec.bits = recordKeyBits(tags.p, rec.keyType, errors);
  }
  return rec;
}

/** " (values are case-sensitive: …)" when `value` is one of `known` in another case, else "". */
function caseOnly(value: string, known: readonly string[]): string {
  const meant = known.find((k) => k !== value && k.toLowerCase() === value.toLowerCase());
  return meant ? ` (values are case-sensitive, RFC 6376 §3.2: verifiers know ${meant}, not ${value})` : '';
}

/** The key length of a valid base64 `p=` under `k=keyType`, as the parser reads it; what it cannot read goes to `errors`. */
function recordKeyBits(p: string, keyType: DkimKeyType, errors: string[]): number | null {
  if (keyType === 'ed25519') {
    const der = Buffer.from(p, 'base64');
    if (der.length === 32) return 256;
    if (der.length === ED25519_SPKI_PREFIX.length + 32 && der.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX))
      errors.push('k=ed25519 key is published as SubjectPublicKeyInfo; RFC 8463 requires the raw 32-byte key');
    else errors.push(`k=ed25519 key must be 32 raw bytes, got ${der.length}`);
    return null;
  }
  if (keyType !== 'rsa') return null;
  const fast = rsaModulusBits(p); // plain DER walk; OpenSSL only for what it cannot read
  if (fast !== null && fast > 0) return fast;
  const info = decodeKey(p, 'rsa');
  if (!info || info.key.asymmetricKeyType !== 'rsa') {
    errors.push('p= is not an RSA public key (neither SubjectPublicKeyInfo nor RSAPublicKey DER)');
    return null;
  }
  return info.key.asymmetricKeyDetails?.modulusLength ?? null;
}

/**
 * The length in bits of a base64 public key as a DKIM record for `keyType` would publish it (renderDkimRecord): an RSA
 * key in SPKI or bare PKCS#1 DER, an Ed25519 key as SPKI or the raw 32 bytes. Null when it is no such key (gradeKey
 * fails it). Reads the DER itself; OpenSSL only for an RSA key the DER walk cannot read.
 */
export function keyBits(publicKeyB64: string, keyType: DkimKeyType = 'rsa'): number | null {
  const p = normalizeBase64(publicKeyB64);
  if (p === '' || !BASE64.test(p)) return null;
  if (keyType === 'ed25519') {
    const der = Buffer.from(p, 'base64');
    const spki = der.length === ED25519_SPKI_PREFIX.length + 32 && der.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX);
    return der.length === 32 || spki ? 256 : null;
  }
  return recordKeyBits(p, keyType, []);
}

/**
 * Why verifiers ignore this key for the signatures a server makes today (rsa-sha256, ed25519-sha256): an `h=` that
 * does not list sha256 (RFC 6376 §3.6.1: a verifier ignores a key whose `h=` leaves out the signature's hash;
 * RFC 8301: rsa-sha1 is not to be used). Null when `h=` is absent (all hashes) or lists sha256. The text says what
 * the h= does ("h=sha1 lets verifiers use it only …"), to follow "its" or stand in parentheses.
 */
export function hashRefusal(rec: DkimRecord): DkimProblem | null {
  if (!rec.hashes || rec.hashes.includes('sha256')) return null;
  const text =
    rec.hashes.length > 0 && rec.hashes.every((h) => h === 'sha1')
      ? 'h=sha1 lets verifiers use it only for rsa-sha1 signatures, which are obsolete (RFC 8301), so they ignore it for the sha256 signatures this server makes'
      : `h=${rec.tags.h} does not list sha256, so verifiers ignore it for the sha256 signatures this server makes (RFC 6376 §3.6.1)`;
  return { kind: 'hash', text };
}

/** Mail::DKIM's filters, as the texts below name them. */
const MAIL_DKIM = 'Mail::DKIM (SpamAssassin, Amavis)';

/**
 * Why widely deployed verifiers fail signatures against a record RFC 6376 lets them verify, for a record without errors
 * (Mail::DKIM 1.20230212 beside dkimpy in test/e2e/dkim-second-judge.test.ts; OpenDKIM 2.11.0's opendkim-testmsg):
 * - `p=` an RSA key as a bare RSAPublicKey (PKCS#1): RFC 6376 §3.6.1 names that form (erratum 3017 allows
 *   SubjectPublicKeyInfo too, which is what signers publish), but Mail::DKIM hands p= to OpenSSL as a PUBLIC KEY
 *   (SubjectPublicKeyInfo) — "OpenSSL error: wrong tag" — and OpenDKIM cannot load it either ("Unable to verify");
 * - `g=` other than `*`: RFC 4871's granularity, gone from RFC 6376 (§3.6.1 lists no g=, and unknown tags are ignored),
 *   which Mail::DKIM still applies (PublicKey check_granularity): the signature's i= local part must match it — and a
 *   signature without i= (the usual) has an empty one, which only `*` matches; an empty g= matches nothing
 *   ("granularity is empty"). dkimpy and OpenDKIM 2.11 ignore g=.
 * Each text says what the record does and what follows, to come after "but". Empty when there is nothing to say.
 */
export function verifierRefusals(rec: DkimRecord): DkimProblem[] {
  const out: DkimProblem[] = [];
  if (rec.errors.length || rec.revoked || !rec.publicKey) return out;
  if (rec.keyType === 'rsa' && bareRsa(rec.publicKey)) {
    out.push({
      kind: 'encoding',
      text: `its p= is a bare RSAPublicKey (PKCS#1): RFC 6376 allows that form, yet ${MAIL_DKIM} and OpenDKIM read p= as SubjectPublicKeyInfo only, so receivers that verify with them fail this key's signatures`,
    });
  }
  const fails = "so receivers that verify with it fail this key's signatures";
  const g = rec.tags.g;
  if (g !== undefined && g !== '*') {
    out.push({
      kind: 'granularity',
      text:
        g === ''
          ? `its g= is empty: RFC 6376 dropped g= (RFC 4871's granularity), yet ${MAIL_DKIM} still applies it, and an empty g= matches no signature, ${fails}`
          : `its g=${g} is RFC 4871's granularity, which RFC 6376 dropped, yet ${MAIL_DKIM} still applies it: a signature's i= local part must match it, and a signature without i= (the usual) matches only g=*, ${fails}`,
    });
  }
  return out;
}

/** Whether an RSA `p=` is a bare RSAPublicKey (the DER walk; OpenSSL only for a key the walk cannot read). */
function bareRsa(p: string): boolean {
  return isBareRsaPublicKey(p) ?? decodeKey(p, 'rsa')?.encoding === 'pkcs1';
}

/** RFC 8301 grading: RSA < 1024 fail, 1024..2047 warn, ≥ 2048 ok; Ed25519 ok. Unknown length fails. */
export function gradeKey(bits: number | null, keyType: DkimKeyType = 'rsa'): KeyGrade {
  if (keyType === 'ed25519') return bits === null ? 'fail' : 'ok';
  if (keyType !== 'rsa' || bits === null) return 'fail';
  if (bits < 1024) return 'fail';
  if (bits < 2048) return 'warn';
  return 'ok';
}

/** base64 SubjectPublicKeyInfo DER of the public half of a PEM private key (RSA or Ed25519). */
export function publicKeyFromPrivatePem(pem: string): string {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * The key type of a base64 public key (SPKI, bare PKCS#1 RSA, or raw 32-byte Ed25519), read from the key itself
 * (the SPKI algorithm): 'rsa', 'ed25519', or another node:crypto type ('ec', 'rsa-pss', …) DKIM cannot publish.
 * Null when the key does not decode.
 */
export function publicKeyType(publicKeyB64: string): DkimKeyType | null {
  if (rsaPublicKeyDer(publicKeyB64)) return 'rsa'; // plain DER walk, no OpenSSL
  return decodeKey(publicKeyB64)?.key.asymmetricKeyType ?? null;
}

/**
 * A DKIM TXT value for a key. RSA keys are published as SubjectPublicKeyInfo (a bare RSAPublicKey, as some panels
 * hand a key, is wrapped: RFC 6376 allows it, but Mail::DKIM and OpenDKIM fail it — verifierRefusals); a key that does
 * not read as RSA stays as given. Ed25519 keys given as SPKI are reduced to the raw 32 bytes RFC 8463 requires.
 * Whitespace is stripped.
 */
export function renderDkimRecord(publicKeyB64: string, keyType: DkimKeyType = 'rsa'): string {
  let p = normalizeBase64(publicKeyB64);
  if (keyType === 'rsa') p = rsaSpki(p) ?? p;
  if (keyType === 'ed25519') {
    const der = Buffer.from(p, 'base64');
    if (der.length === ED25519_SPKI_PREFIX.length + 32 && der.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX))
      p = der.subarray(ED25519_SPKI_PREFIX.length).toString('base64');
  }
  return `v=DKIM1; k=${keyType}; p=${p}`;
}

/** An RSA key as base64 SubjectPublicKeyInfo (the DER walk; OpenSSL only for a key it cannot read), else null. */
function rsaSpki(p: string): string | null {
  if (!BASE64.test(p)) return null;
  const fast = rsaSpkiFromPublicKey(p);
  if (fast !== null) return fast;
  const info = decodeKey(p, 'rsa');
  if (!info || info.key.asymmetricKeyType !== 'rsa') return null;
  return info.encoding === 'pkcs1' ? info.key.export({ type: 'spki', format: 'der' }).toString('base64') : p;
}

/**
 * Whether two published keys are the same key, compared as SubjectPublicKeyInfo DER — so SPKI and PKCS#1
 * encodings of one RSA key (and raw vs SPKI Ed25519) compare equal. Undecodable keys compare by normalized text.
 */
export function sameKey(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const na = normalizeBase64(a);
  const nb = normalizeBase64(b);
  if (na === nb) return true;
  const ka = decodeKey(na);
  const kb = decodeKey(nb);
  if (!ka || !kb) return false;
  return ka.key.export({ type: 'spki', format: 'der' }).equals(kb.key.export({ type: 'spki', format: 'der' }));
}
