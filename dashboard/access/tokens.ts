import { createHash, randomBytes } from 'node:crypto';

/**
 * Bearer secrets (session, display and share tokens) are 256 random bits; only their SHA-256 is stored. A fast
 * hash is enough here (unlike passwords, which need scrypt): nobody can search a 256-bit space, so a stolen
 * database gives no usable token.
 */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Short public ids for share links and display tokens (what lists and DELETE use; not a secret). */
export function newId(): string {
  return randomBytes(9).toString('base64url');
}
