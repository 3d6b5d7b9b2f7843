import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startScriptNodeFlags } from '../../bench/targets/process.js';

describe('the service under test', () => {
  it('gets the node flags npm start gives it (the young-generation size among them)', () => {
    const start = JSON.parse(readFileSync('package.json', 'utf8')).scripts.start as string;
    expect(startScriptNodeFlags()).toEqual(start.split(' ').slice(1, start.split(' ').indexOf('scripts/start.mjs')));
    expect(startScriptNodeFlags()).toContain('--max-semi-space-size=64');
    expect(startScriptNodeFlags(JSON.stringify({ scripts: { start: 'node scripts/start.mjs' } }))).toEqual([]);
    expect(() => startScriptNodeFlags(JSON.stringify({ scripts: { start: 'tsx app/main.ts' } }))).toThrow(/update bench/);
    expect(() => startScriptNodeFlags(JSON.stringify({ scripts: { start: 'node --max-semi-space-size=64 dist/app/main.js' } }))).toThrow(/update bench/);
  });
});
