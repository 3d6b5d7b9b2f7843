// What the build compiles and what `npm start` compares dist/ against. Plain JavaScript: npm start reads it
// with node alone, before anything is built.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The service's folders (bench/ and test/ run from source with tsx). */
export const SERVER_DIRS = ['animals', 'app', 'broker', 'cluster', 'core', 'dashboard', 'ingest', 'notifications', 'rules', 'simulators', 'store'];

/** Written last by the build: dist/ is complete and as new as this file. */
export const BUILD_STAMP = 'build.json';

/** A server module: TypeScript outside the page's own folder (the page is bundled separately). */
export function isServerSource(file) {
  return file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith('dashboard/ui/');
}

/** Files the compiled service reads beside its modules: the SQLite writer thread and the pages' HTML. */
export function isStaticAsset(file) {
  return file.endsWith('.mjs') || (file.startsWith('dashboard/ui/') && file.endsWith('.html'));
}

/** Every file whose change makes dist/ out of date. */
export function isBuildInput(file) {
  return /\.(ts|mts|mjs|css|html)$/.test(file) && !file.endsWith('.d.ts');
}

/** Newest modification time of the build inputs under `root` (0 when there are none, as in an image). */
export function newestSource(root) {
  let newest = 0;
  for (const dir of SERVER_DIRS) {
    if (!existsSync(join(root, dir))) continue;
    for (const e of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !isBuildInput(relative(root, join(e.parentPath, e.name)))) continue;
      newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  }
  return newest;
}

/** Why `root`/dist must be built before it runs, or undefined when it is up to date. */
export function staleReason(root) {
  const stamp = join(root, 'dist', BUILD_STAMP);
  if (!existsSync(stamp)) return 'dist/ is missing';
  return newestSource(root) > statSync(stamp).mtimeMs ? 'the sources changed since the last build' : undefined;
}
