// Cheap DER walking for RSA keys, so comparing keys and deriving a public key does not need OpenSSL's full key
// parsing (which costs ~0.3 ms a key — too much across 10,000 domains). Anything unusual falls back to the caller.

interface Tlv {
  tag: number;
  start: number; // content start
  end: number; // content end
}

function readTlv(buf: Buffer, off: number): Tlv | null {
  if (off + 2 > buf.length) return null;
  const tag = buf[off];
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > buf.length) return null;
  return { tag, start: p, end: p + len };
}

function children(buf: Buffer, t: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  let p = t.start;
  while (p < t.end) {
    const c = readTlv(buf, p);
    if (!c) return null;
    out.push(c);
    p = c.end;
  }
  return out;
}

const RSA_OID = Buffer.from('2a864886f70d010101', 'hex');

/** An RSA public key's RSAPublicKey (PKCS#1) bytes, and whether `p=` wrapped them in a SubjectPublicKeyInfo. */
interface RsaKeyDer {
  pub: Buffer;
  spki: boolean;
}

function readRsaKey(b64: string): RsaKeyDer | null {
  const der = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
  const top = readTlv(der, 0);
  if (!top || top.tag !== 0x30 || top.end !== der.length) return null;
  const kids = children(der, top);
  if (!kids || kids.length < 2) return null;
  if (kids[0].tag === 0x02 && kids[1].tag === 0x02 && kids.length === 2) return { pub: der, spki: false }; // RSAPublicKey
  if (kids[0].tag === 0x30 && kids[1].tag === 0x03) {
    const alg = children(der, kids[0]);
    if (!alg || !alg[0] || alg[0].tag !== 0x06 || !der.subarray(alg[0].start, alg[0].end).equals(RSA_OID)) return null;
    if (der[kids[1].start] !== 0) return null; // unused bits
    const inner = der.subarray(kids[1].start + 1, kids[1].end);
    const t = readTlv(inner, 0);
    return t && t.tag === 0x30 && t.end === inner.length ? { pub: inner, spki: true } : null;
  }
  return null;
}

/** The RSAPublicKey (PKCS#1) bytes inside a base64 SubjectPublicKeyInfo or bare RSAPublicKey; null if neither. */
export function rsaPublicKeyDer(b64: string): Buffer | null {
  return readRsaKey(b64)?.pub ?? null;
}

/**
 * Whether a base64 RSA public key is a bare RSAPublicKey (PKCS#1) rather than one wrapped in SubjectPublicKeyInfo;
 * null when the DER walk cannot read it as either. RFC 6376 §3.6.1 names RSAPublicKey for k=rsa, but Mail::DKIM
 * (SpamAssassin, Amavis) and OpenDKIM hand p= to OpenSSL as SubjectPublicKeyInfo only, and fail the bare form.
 */
export function isBareRsaPublicKey(b64: string): boolean | null {
  const k = readRsaKey(b64);
  return k ? !k.spki : null;
}

/**
 * The base64 SubjectPublicKeyInfo of an RSA public key given as SPKI (returned as given, whitespace stripped) or as a
 * bare RSAPublicKey (wrapped: plain DER building, no OpenSSL); null when the DER walk cannot read it.
 */
export function rsaSpkiFromPublicKey(b64: string): string | null {
  const k = readRsaKey(b64);
  if (!k) return null;
  return k.spki ? b64.replace(/\s+/g, '') : spkiOf(k.pub).toString('base64');
}

function encLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encLen(content.length), content]);
}

/** base64 SubjectPublicKeyInfo of an RSA private key PEM (PKCS#8 or PKCS#1), or null to let the caller use OpenSSL. */
export function rsaSpkiFromPrivatePem(pem: string): string | null {
  const m = /-----BEGIN (RSA )?PRIVATE KEY-----([\s\S]*?)-----END (RSA )?PRIVATE KEY-----/.exec(pem);
  if (!m) return null;
  let der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  let top = readTlv(der, 0);
  if (!top || top.tag !== 0x30) return null;
  let kids = children(der, top);
  if (!kids) return null;
  if (!m[1]) {
    // PKCS#8: version, AlgorithmIdentifier(rsaEncryption), OCTET STRING(RSAPrivateKey)
    if (kids.length < 3 || kids[1].tag !== 0x30 || kids[2].tag !== 0x04) return null;
    const alg = children(der, kids[1]);
    if (!alg || !alg[0] || !der.subarray(alg[0].start, alg[0].end).equals(RSA_OID)) return null;
    der = der.subarray(kids[2].start, kids[2].end);
    top = readTlv(der, 0);
    if (!top || top.tag !== 0x30) return null;
    kids = children(der, top);
    if (!kids) return null;
  }
  // RSAPrivateKey: version, n, e, d, p, q, …
  if (kids.length < 3 || kids[1].tag !== 0x02 || kids[2].tag !== 0x02) return null;
  const n = der.subarray(kids[1].start, kids[1].end);
  const e = der.subarray(kids[2].start, kids[2].end);
  return spkiOf(tlv(0x30, Buffer.concat([tlv(0x02, n), tlv(0x02, e)]))).toString('base64');
}

/** The SubjectPublicKeyInfo DER around RSAPublicKey DER: AlgorithmIdentifier(rsaEncryption, NULL), BIT STRING. */
function spkiOf(rsaPub: Buffer): Buffer {
  const algId = tlv(0x30, Buffer.concat([tlv(0x06, RSA_OID), Buffer.from([0x05, 0x00])]));
  return tlv(0x30, Buffer.concat([algId, tlv(0x03, Buffer.concat([Buffer.from([0]), rsaPub]))]));
}

/** Modulus length in bits of an RSA public key (SPKI or PKCS#1, base64); null when it is not one. */
export function rsaModulusBits(b64: string): number | null {
  const pub = rsaPublicKeyDer(b64);
  if (!pub) return null;
  const top = readTlv(pub, 0);
  const kids = top ? children(pub, top) : null;
  if (!kids || kids.length !== 2 || kids[0].tag !== 0x02) return null;
  let s = kids[0].start;
  while (s < kids[0].end && pub[s] === 0) s++;
  if (s >= kids[0].end) return 0;
  return (kids[0].end - s - 1) * 8 + (32 - Math.clz32(pub[s]));
}
