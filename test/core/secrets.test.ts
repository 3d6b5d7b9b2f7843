import type { ScryptOptions } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSecret, hashSecret, newSecret, type Kdf, type StoredSecret } from '../../core/secrets.js';

/**
 * Login timing by structure: whatever is stored for a name (nothing, a plain development secret, a scrypt hash),
 * a refusal runs the key derivation exactly once at the default cost. Measured over real sockets in
 * test/reliability/login-timing.test.ts.
 */
function countingKdf() {
  const calls: ScryptOptions[] = [];
  const kdf: Kdf = async (_secret, _salt, opts) => {
    calls.push(opts);
    return Buffer.alloc(32);
  };
  return { kdf, calls };
}

describe('checkSecret', () => {
  it('does one key derivation at the default cost for every refusal, known name or not', async () => {
    const hash = await hashSecret('right');
    const cases: [string, StoredSecret][] = [
      ['unknown name', { kind: 'none' }],
      ['plain secret', { kind: 'plain', secret: 'right' }],
      ['scrypt hash', { kind: 'hash', hash }],
    ];
    const work = [];
    for (const [what, stored] of cases) {
      const { kdf, calls } = countingKdf();
      expect(await checkSecret('wrong', stored, kdf), what).toBe(false);
      work.push(calls);
    }
    expect(work).toEqual([[{ N: 16384, r: 8, p: 1 }], [{ N: 16384, r: 8, p: 1 }], [{ N: 16384, r: 8, p: 1 }]]);
  });

  it('accepts the right plain secret and the right hashed one', async () => {
    expect(await checkSecret('right', { kind: 'plain', secret: 'right' })).toBe(true);
    expect(await checkSecret('right', { kind: 'hash', hash: await hashSecret('right', { N: 1024, r: 8, p: 1 }) })).toBe(true);
    expect(await checkSecret('', { kind: 'none' })).toBe(false);
  });
});

describe('newSecret', () => {
  it('gives 24 letters and digits, never a leading dash a command-line client would read as an option, never the same twice', () => {
    const secrets = Array.from({ length: 5000 }, () => newSecret());
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
    // Every character of the alphabet turns up: none is dropped by the byte-to-letter mapping.
    expect(new Set(secrets.join('')).size).toBe(62);
  });
});
