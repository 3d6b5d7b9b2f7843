import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { siteOf } from './access/site-scope.js';

/**
 * The pages: the dashboard (index.html, /app.js, /app.css) and the share page for a phone (/share/{token},
 * /share.js, /share.css), each a script and stylesheet bundled from dashboard/ui/*.ts with esbuild the first
 * time they are asked for (or at start), then served from memory. So `npm start` needs no separate build step.
 * They are public (the login page, the share page); what they fetch afterwards needs a login or a share token.
 */
const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

export interface PageBundle {
  js: string;
  css: string;
  etag: string;
}

const ENTRIES = { app: 'main.ts', share: 'share/main.ts' } as const;
type Entry = keyof typeof ENTRIES;

export async function bundlePage(entry: Entry = 'app'): Promise<PageBundle> {
  const esbuild = await import('esbuild').catch(() => {
    throw new Error('esbuild is needed to build the dashboard page: run `npm install` (with dev dependencies).');
  });
  const result = await esbuild.build({
    entryPoints: [`${UI_DIR}${ENTRIES[entry]}`],
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

export interface PageOptions {
  /** Whether a share token opens a link now; the share page answers 404 otherwise (and says so on the page). */
  shareIsOpen(token: string): boolean;
  shareRateLimit: { max: number; timeWindow: number };
}

export function registerPage(app: FastifyInstance, options: PageOptions): { warm(): Promise<void> } {
  const bundles = new Map<Entry, Promise<PageBundle>>();
  const getBundle = (entry: Entry) => {
    let b = bundles.get(entry);
    if (!b) {
      b = bundlePage(entry).catch((err) => {
        bundles.delete(entry);
        throw err;
      });
      bundles.set(entry, b);
    }
    return b;
  };
  const html = new Map<string, Promise<string>>();
  const htmlFile = (name: string) => {
    let h = html.get(name);
    if (!h) {
      h = readFile(`${UI_DIR}${name}`, 'utf8');
      html.set(name, h);
      h.catch(() => html.delete(name));
    }
    return h;
  };
  const page = { config: { access: 'public' as const, site: siteOf.none('the page itself; it fetches data with a login or a share token') }, schema: { hide: true } };

  // In a plugin, so hooks of plugins registered before it (the rate limit) see these routes.
  void app.register(async (app) => {
    app.get('/', page, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await htmlFile('index.html')));

    app.get<{ Params: { token: string } }>('/share/:token', { ...page, config: { ...page.config, rateLimit: options.shareRateLimit } }, async (request, reply) => {
      const open = options.shareIsOpen(request.params.token);
      return reply
        .code(open ? 200 : 404)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-robots-tag', 'noindex')
        .send(await htmlFile(open ? 'share.html' : 'share-gone.html'));
    });

    const assets = [
      ['/app.js', 'text/javascript; charset=utf-8', 'app', 'js'],
      ['/app.css', 'text/css; charset=utf-8', 'app', 'css'],
      ['/share.js', 'text/javascript; charset=utf-8', 'share', 'js'],
      ['/share.css', 'text/css; charset=utf-8', 'share', 'css'],
    ] as const;
    for (const [path, type, entry, part] of assets) {
      app.get(path, page, async (request, reply) => {
        const b = await getBundle(entry).catch((err: Error) => err);
        if (b instanceof Error) {
          request.log.error({ err: b }, 'the dashboard page could not be built');
          return reply.code(503).type('text/plain; charset=utf-8').send('The dashboard page could not be built; the server log says why.');
        }
        reply.header('cache-control', 'no-cache').header('etag', b.etag);
        if (request.headers['if-none-match'] === b.etag) return reply.code(304).send();
        return reply.type(type).send(b[part]);
      });
    }
  });
  /** Builds the bundles ahead of the first visitor; a failure is logged and the API keeps working without the page. */
  const warm = async () => {
    for (const entry of Object.keys(ENTRIES) as Entry[])
      await getBundle(entry).catch((err: Error) => app.log.error({ err, entry }, 'the dashboard page could not be built; the API still works'));
  };
  return { warm };
}
