import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces a small file so that a crash or a power cut leaves the old content or the new one, never half, and the
 * new one once this returns: write a temporary file beside it, fsync it, rename it over the old one, then fsync
 * the directory, which is what makes the rename itself durable (a rename lives in the directory's entries; without
 * that fsync a power cut can bring the old file back: see rename(2) and fsync(2), "fsync() on a file descriptor
 * for the directory is also needed"). Every rename-into-place of the service goes through here (users.json,
 * actuators.json, rules.json, animals.json). Throws what the file system threw; nothing is replaced then.
 */
export function writeFileDurably(path: string, text: string, options: { mode?: number } = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', options.mode ?? 0o666);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirectory(dir);
}

/** fsync of a directory, where the platform allows opening one (not on Windows; the rename is still atomic there). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on platforms and file systems that cannot sync a directory: nothing more can be done.
  } finally {
    closeSync(fd);
  }
}
