import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto';

/**
 * Password and device-secret hashing with scrypt. Format: `scrypt$N$r$p$<salt b64>$<hash b64>`,
 * so the cost can be raised later without breaking stored hashes.
 */
const KEY_LEN = 32;
const DEFAULTS = { N: 16384, r: 8, p: 1 };

function scrypt(secret: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(secret, salt, KEY_LEN, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashSecret(secret: string, cost = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isSecretHash(value: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(value);
}

/**
 * Verifies a secret against a stored hash. Successful checks are remembered (keyed by a SHA-256 of hash and
 * secret, never the secret itself) so that thousands of devices reconnecting do not cost 50 ms of scrypt each.
 */
const verified = new Set<string>();

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const memo = createHash('sha256').update(stored).update('\0').update(secret).digest('base64');
  if (verified.has(memo)) return true;
  const [, N, r, p, saltB64, hashB64] = parts;
  const expected = Buffer.from(hashB64, 'base64');
  const key = await scrypt(secret, Buffer.from(saltB64, 'base64'), { N: Number(N), r: Number(r), p: Number(p) });
  const ok = key.length === expected.length && timingSafeEqual(key, expected);
  if (ok) {
    if (verified.size > 100_000) verified.clear();
    verified.add(memo);
  }
  return ok;
}

/** Constant-time comparison of a plain development secret. */
export function plainSecretMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function newSecret(): string {
  return randomBytes(18).toString('base64url');
}
