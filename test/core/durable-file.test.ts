import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { importedAnimalsFile } from '../../animals/imported.js';
import { silentLogger } from '../../core/logger.js';
import { createUserDirectory } from '../../dashboard/users.js';
import { createStateFile } from '../../rules/state-file.js';

/**
 * Every file the service replaces by renaming a new one into place must also fsync the directory afterwards, or
 * a power cut can undo the rename (users.json once did not). The real file system does the work; these wrappers
 * only record the order of the calls, which no observation after the fact could show without pulling the plug.
 */
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, openSync: vi.fn(real.openSync), fsyncSync: vi.fn(real.fsyncSync), renameSync: vi.fn(real.renameSync) };
});

const opened = vi.mocked(fs.openSync);
const synced = vi.mocked(fs.fsyncSync);
const renamed = vi.mocked(fs.renameSync);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
beforeEach(() => vi.clearAllMocks());

/** The calls in order: what was opened (by path), fsynced (by the path its fd was opened for, fds being reused) and renamed. */
function journal(): string[] {
  const events = [
    ...opened.mock.calls.map(([path], i) => ({
      order: opened.mock.invocationCallOrder[i],
      open: { fd: opened.mock.results[i].value as number, path: String(path) },
    })),
    ...synced.mock.calls.map(([fd], i) => ({ order: synced.mock.invocationCallOrder[i], fsync: fd })),
    ...renamed.mock.calls.map(([from, to], i) => ({ order: renamed.mock.invocationCallOrder[i], rename: `${String(from)} -> ${String(to)}` })),
  ].sort((a, b) => a.order - b.order);
  const fdPath = new Map<number, string>();
  return events.map((e) => {
    if ('open' in e) {
      fdPath.set(e.open.fd, e.open.path);
      return `open ${e.open.path}`;
    }
    if ('fsync' in e) return `fsync ${fdPath.get(e.fsync) ?? e.fsync}`;
    return `rename ${e.rename}`;
  });
}

function expectDurableReplace(file: string): void {
  const dir = file.slice(0, file.lastIndexOf('/'));
  const j = journal();
  const rename = j.indexOf(`rename ${file}.tmp -> ${file}`);
  expect(rename, j.join('\n')).toBeGreaterThanOrEqual(0);
  expect(j.slice(0, rename), 'the new content is on disk before it is renamed into place').toContain(`fsync ${file}.tmp`);
  expect(j.slice(rename), 'the rename is made durable by an fsync of the directory').toContain(`fsync ${dir}`);
}

const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'farm-durable-'));
  dirs.push(d);
  return d;
};

describe('files renamed into place are durable once written', () => {
  it('users.json: a user changed over the API', async () => {
    const file = join(tempDir(), 'users.json');
    const users = createUserDirectory([], { file, logger: silentLogger() });
    await users.put('otto', { role: 'operator', password: 'dev-only-password' });
    expectDurableReplace(file);
    expect(JSON.parse(readFileSync(file, 'utf8')).users[0].name).toBe('otto');
  });

  it('the rules engine state files (actuators.json, rules.json)', () => {
    const file = join(tempDir(), 'actuators.json');
    createStateFile(file, silentLogger(), (raw) => raw).save({ modes: [] });
    expectDurableReplace(file);
  });

  it('animals.json: animals imported over the API', () => {
    const dir = tempDir();
    importedAnimalsFile(dir, silentLogger())!.save([]);
    expectDurableReplace(join(dir, 'animals.json'));
  });
});
