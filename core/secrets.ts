import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto';

/**
 * Password and device-secret hashing with scrypt. Format: `scrypt$N$r$p$<salt b64>$<hash b64>`,
 * so the cost can be raised later without breaking stored hashes.
 */
const KEY_LEN = 32;
const DEFAULTS = { N: 16384, r: 8, p: 1 };

export type Kdf = (secret: string, salt: Buffer, opts: ScryptOptions) => Promise<Buffer>;

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

export async function verifySecret(secret: string, stored: string, kdf: Kdf = scrypt): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    await spendOneVerification(secret, kdf);
    return false;
  }
  const memo = createHash('sha256').update(stored).update('\0').update(secret).digest('base64');
  if (verified.has(memo)) return true;
  const [, N, r, p, saltB64, hashB64] = parts;
  const expected = Buffer.from(hashB64, 'base64');
  const key = await kdf(secret, Buffer.from(saltB64, 'base64'), { N: Number(N), r: Number(r), p: Number(p) });
  const ok = key.length === expected.length && timingSafeEqual(key, expected);
  if (ok) {
    if (verified.size > 100_000) verified.clear();
    verified.add(memo);
  }
  return ok;
}

/** What is stored for a name that someone tries to log in with: nothing (unknown name), a plain development secret, or a hash. */
export type StoredSecret = { kind: 'none' } | { kind: 'plain'; secret: string } | { kind: 'hash'; hash: string };

const DUMMY_SALT = randomBytes(16);

/** The work of one failed hash check at the default cost, for refusals that have no hash to check. */
async function spendOneVerification(secret: string, kdf: Kdf): Promise<void> {
  await kdf(secret, DUMMY_SALT, DEFAULTS);
}

/**
 * Checks a login (dashboard user or MQTT device) so that a refusal takes as long whatever the name: an unknown name,
 * a plain development secret and a scrypt hash each cost one scrypt at the default cost (what provisioning writes).
 * Otherwise a refusal in 1 ms tells an unknown or plain name from a hashed one in 25 ms. A success may be quicker
 * (a plain match, a remembered hash check): the answer itself tells the caller that it succeeded.
 */
export async function checkSecret(given: string, stored: StoredSecret, kdf: Kdf = scrypt): Promise<boolean> {
  if (stored.kind === 'hash') return verifySecret(given, stored.hash, kdf);
  if (stored.kind === 'plain' && plainSecretMatches(given, stored.secret)) return true;
  await spendOneVerification(given, kdf);
  return false;
}

/** Constant-time comparison of a plain development secret. */
export function plainSecretMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A device secret: 24 letters and digits (about 143 bits). No '-' or '_': a secret that starts with '-' is read
 * as options by command-line clients (`mqtt pub -P -x...` silently published nothing), and one that must be
 * quoted or escaped in a shell, a YAML file or a device's settings page gets typed wrong.
 */
export function newSecret(): string {
  let secret = '';
  for (const byte of randomBytes(64)) {
    if (byte >= 248) continue; // 248 = 4 x 62: the rest would favour the first letters
    secret += SECRET_ALPHABET[byte % 62];
    if (secret.length === 24) return secret;
  }
  return newSecret(); // 64 random bytes hold fewer than 24 usable ones all but never
}
