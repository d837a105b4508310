// Standalone logins: salted scrypt hashes, stored through store.setPasswordHash. Format: scrypt$N$r$p$salt$hash (base64).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEYLEN, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Stands in for a missing or unusable hash: the same work as checking a real one, so timing does not tell. */
let dummyHash: Promise<string> | null = null;

/** True when `password` matches `stored`. No hash (an unknown user, or no password set) costs the same scrypt work. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = stored ? parseHash(stored) : null;
  if (!parsed) {
    dummyHash ??= hashPassword(randomBytes(16).toString('base64')).catch((e: unknown) => {
      dummyHash = null;
      throw e;
    });
    await verifyPassword(password, await dummyHash);
    return false;
  }
  const { n, r, p, salt, want } = parsed;
  const got = await scrypt(password, salt, want.length, { N: n, r, p, maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(got, want);
}

function parseHash(stored: string): { n: number; r: number; p: number; salt: Buffer; want: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20) return null;
  const salt = Buffer.from(parts[4], 'base64');
  const want = Buffer.from(parts[5], 'base64');
  if (want.length < 16) return null;
  return { n, r, p, salt, want };
}

/** A readable random password (demo logins). */
export function randomPassword(): string {
  return randomBytes(12).toString('base64url');
}
