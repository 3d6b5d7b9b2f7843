import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/**
 * The two pages' scripts and stylesheets, bundled from dashboard/ui/*.ts by esbuild: the dashboard (app.js,
 * app.css) and the share page for a phone (share.js, share.css). `npm run build` writes them next to the compiled
 * server (dist/dashboard/ui/), which serves those files; run from source (`npm run dev`, the tests) there are none,
 * and the server bundles them itself on first use with esbuild, a development dependency.
 */
export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

export const PAGE_ENTRIES = { app: 'main.ts', share: 'share/main.ts' } as const;
export type PageEntry = keyof typeof PAGE_ENTRIES;

export interface PageBundle {
  js: string;
  css: string;
  etag: string;
}

function bundleOf(js: string, css: string): PageBundle {
  return { js, css, etag: `"${createHash('sha1').update(js).update(css).digest('base64url')}"` };
}

/** Bundles one page from its TypeScript sources in `uiDir` (the build passes the source folder). */
export async function buildPage(entry: PageEntry, uiDir = UI_DIR): Promise<PageBundle> {
  const esbuild = await import('esbuild').catch(() => {
    throw new Error('the dashboard page is not built and esbuild is not installed: run `npm install` (with dev dependencies) and `npm run build`');
  });
  const result = await esbuild.build({
    entryPoints: [`${uiDir}${PAGE_ENTRIES[entry]}`],
    bundle: true,
    write: false,
    outdir: '/page',
    format: 'esm',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const find = (ext: string) => new TextDecoder().decode(result.outputFiles.find((f) => f.path.endsWith(ext))?.contents ?? new Uint8Array());
  return bundleOf(find('.js'), find('.css'));
}

/** The prebuilt page next to this module (dist/dashboard/ui/{entry}.js), or undefined when running from source. */
export async function prebuiltPage(entry: PageEntry, uiDir = UI_DIR): Promise<PageBundle | undefined> {
  const js = `${uiDir}${entry}.js`;
  if (!existsSync(js)) return undefined;
  return bundleOf(await readFile(js, 'utf8'), await readFile(`${uiDir}${entry}.css`, 'utf8'));
}

/** What the server serves: the prebuilt page when there is one, else bundled now from source. */
export async function bundlePage(entry: PageEntry = 'app'): Promise<PageBundle> {
  return (await prebuiltPage(entry)) ?? buildPage(entry);
}
