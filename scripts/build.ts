import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildPage, PAGE_ENTRIES, type PageEntry } from '../dashboard/page-bundle.js';
import { BUILD_STAMP, SERVER_DIRS, isServerSource, isStaticAsset } from './sources.mjs';

/**
 * `npm run build`: the service compiled to plain JavaScript in dist/, the tree kept (dist/app/main.js, …), and the
 * dashboard page prebuilt into dist/dashboard/ui/. `npm start` runs that with node; nothing in dist/ needs a
 * development dependency. Types are checked by `npm run typecheck` (tsc), not here: esbuild only strips them, which
 * takes about a second, so `npm start` can rebuild whenever the sources changed.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

export interface BuildOptions {
  /** Where to write; default dist/ in the repository. */
  outDir?: string;
  log?: (line: string) => void;
}

export async function build({ outDir = join(ROOT, 'dist'), log = (line) => process.stderr.write(`${line}\n`) }: BuildOptions = {}): Promise<void> {
  const DIST = outDir;
  const started = Date.now();
  const files = SERVER_DIRS.flatMap(filesUnder);
  const sources = files.filter(isServerSource);
  const assets = files.filter(isStaticAsset);
  log(`building ${relative(ROOT, DIST) || DIST}/: ${sources.length} server modules, the dashboard page …`);
  rmSync(DIST, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: sources,
    outdir: DIST,
    outbase: ROOT,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of assets) {
    mkdirSync(dirname(join(DIST, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(DIST, file));
  }
  for (const entry of Object.keys(PAGE_ENTRIES) as PageEntry[]) {
    const page = await buildPage(entry, join(ROOT, 'dashboard/ui/'));
    writeFileSync(join(DIST, 'dashboard/ui', `${entry}.js`), page.js);
    writeFileSync(join(DIST, 'dashboard/ui', `${entry}.css`), page.css);
  }
  // Marks a complete build: npm start compares its time with the sources' (scripts/start.mjs).
  writeFileSync(join(DIST, BUILD_STAMP), `${JSON.stringify({ builtAt: new Date().toISOString(), modules: sources.length })}\n`);
  log(`built ${relative(ROOT, DIST) || DIST}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  build().catch((err: unknown) => {
    process.stderr.write(`\nThe build failed: ${err instanceof Error ? err.message : String(err)}\nFix the error above and run npm run build again.\n`);
    process.exit(1);
  });
}
