import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * The README names the Node.js versions farmwatch runs on; package.json's `engines` says the same, and every
 * package `npm ci` installs must accept the oldest of them, or `npm ci` warns EBADENGINE and a user on that
 * Node version runs code its authors do not support (cookie@2 and content-disposition@3 wanted Node 22).
 */
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};

describe('declared Node.js versions', () => {
  const oldest = semver.minVersion(pkg.engines.node)!;

  it('the README names the same oldest Node.js version as package.json', () => {
    expect(oldest.major).toBe(20);
    expect(readFileSync('README.md', 'utf8')).toContain(`Node.js ${oldest.major}.${oldest.minor}`);
  });

  it('every installed package accepts the oldest Node.js version package.json declares', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.optional && p.engines && !Array.isArray(p.engines) && p.engines.node)
      .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')} wants node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
