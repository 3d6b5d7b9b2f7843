import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { siteOf } from './access/site-scope.js';
import { bundlePage, PAGE_ENTRIES, UI_DIR, type PageBundle, type PageEntry as Entry } from './page-bundle.js';

/**
 * The pages: the dashboard (index.html, /app.js, /app.css) and the share page for a phone (/share/{token},
 * /share.js, /share.css). The scripts and stylesheets come prebuilt from `npm run build` (dist/), or, run from
 * source, are bundled the first time they are asked for (or at start) (dashboard/page-bundle.ts); then they are
 * served from memory. They are public (the login page, the share page); what they fetch afterwards needs a login
 * or a share token.
 */
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
  const page = {
    config: { access: 'public' as const, site: siteOf.none('the page itself; it fetches data with a login or a share token') },
    schema: { hide: true },
  };

  // In a plugin, so hooks of plugins registered before it (the rate limit) see these routes.
  void app.register(async (app) => {
    app.get('/', page, async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(await htmlFile('index.html')),
    );

    app.get<{ Params: { token: string } }>(
      '/share/:token',
      { ...page, config: { ...page.config, rateLimit: options.shareRateLimit } },
      async (request, reply) => {
        const open = options.shareIsOpen(request.params.token);
        return reply
          .code(open ? 200 : 404)
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('x-robots-tag', 'noindex')
          .send(await htmlFile(open ? 'share.html' : 'share-gone.html'));
      },
    );

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
    for (const entry of Object.keys(PAGE_ENTRIES) as Entry[])
      await getBundle(entry).catch((err: Error) => app.log.error({ err, entry }, 'the dashboard page could not be built; the API still works'));
  };
  return { warm };
}
