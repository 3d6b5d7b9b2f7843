import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { areaOf, summarizeProfiles } from '../../bench/profile.js';
import { REPO_ROOT } from '../../bench/targets/process.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('CPU profile summary', () => {
  it('sums self time per function inside the measured window and leaves idle time out of the shares', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
    dirs.push(dir);
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0, columnNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('handleMessage', 'file:///nowhere/app.js') },
        { id: 4, callFrame: frame('writeBatch', 'file:///x/node_modules/better-sqlite3/lib/db.js') },
      ],
      // one sample every 10 ms: 3, 3, 4, 2, 3 (the first 10 ms fall before the window)
      samples: [3, 3, 4, 2, 3, 3],
      timeDeltas: [0, 10_000, 10_000, 10_000, 10_000, 10_000],
    };
    writeFileSync(join(dir, 'service.cpuprofile'), JSON.stringify(profile));
    writeFileSync(join(dir, 'window.json'), JSON.stringify({ fromMs: 5, toMs: 1000 }));
    const s = summarizeProfiles([join(dir, 'service.cpuprofile')]);
    expect(s.idleMs).toBeCloseTo(10);
    expect(s.functions.map((f) => [f.name, Math.round(f.selfMs)])).toEqual([
      ['handleMessage', 20],
      ['writeBatch', 10],
    ]);
    expect(s.areas.find((a) => a.area === 'better-sqlite3')?.selfMs).toBeCloseTo(10);
  });

  it('names the area of a function: project folder, npm package, node internals or V8', () => {
    expect(areaOf(`file://${REPO_ROOT}ingest/ingest.ts`, 'handleMessage')).toBe('ingest/');
    expect(areaOf('file:///w/node_modules/@fastify/cookie/plugin.js', 'parse')).toBe('@fastify/cookie');
    expect(areaOf('node:internal/streams/writable', 'write')).toBe('node internals');
    expect(areaOf('', '(garbage collector)')).toBe('(garbage collector)');
  });
});
