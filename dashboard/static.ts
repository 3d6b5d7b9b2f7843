import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The page: index.html, and a script and stylesheet bundled from dashboard/ui/*.ts with esbuild the first time
 * they are asked for (or at start), then served from memory. So `npm start` needs no separate build step.
 * These are the login page, so they are public; everything they fetch afterwards needs the login.
 */
const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

export interface PageBundle {
  js: string;
  css: string;
  etag: string;
}

export async function bundlePage(): Promise<PageBundle> {
  const esbuild = await import('esbuild').catch(() => {
    throw new Error('esbuild is needed to build the dashboard page: run `npm install` (with dev dependencies).');
  });
  const result = await esbuild.build({
    entryPoints: [`${UI_DIR}main.ts`],
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
  const js = find('.js');
  const css = find('.css');
  return { js, css, etag: `"${createHash('sha1').update(js).update(css).digest('base64url')}"` };
}

export function registerPage(app: FastifyInstance): { warm(): Promise<void> } {
  let bundle: Promise<PageBundle> | undefined;
  const getBundle = () => {
    bundle ??= bundlePage().catch((err) => {
      bundle = undefined;
      throw err;
    });
    return bundle;
  };
  let html: Promise<string> | undefined;
  const page = { config: { access: 'public' as const }, schema: { hide: true } };

  app.get('/', page, async (_request, reply) => {
    html ??= readFile(`${UI_DIR}index.html`, 'utf8');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await html);
  });
  for (const [path, type, part] of [['/app.js', 'text/javascript; charset=utf-8', 'js'], ['/app.css', 'text/css; charset=utf-8', 'css']] as const) {
    app.get(path, page, async (request, reply) => {
      const b = await getBundle().catch((err: Error) => err);
      if (b instanceof Error) {
        request.log.error({ err: b }, 'the dashboard page could not be built');
        return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard page could not be built; the server log says why.');
      }
      reply.header('cache-control', 'no-cache').header('etag', b.etag);
      if (request.headers['if-none-match'] === b.etag) return reply.code(304).send();
      return reply.type(type).send(b[part]);
    });
  }
  /** Builds the bundle ahead of the first visitor; a failure is logged and the API keeps working without the page. */
  const warm = async () => {
    await getBundle().catch((err: Error) => app.log.error({ err }, 'the dashboard page could not be built; the API still works'));
  };
  return { warm };
}
