import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * core/ is the ground floor (config schema, domain types, topics, events): every component imports it, and it
 * imports no component, so the dependency direction stays core <- rules, core <- notifications, core <- animals, …
 * (the config once imported Duration and the rule schema from rules/).
 */
const files = readdirSync('core', { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts'))
  .map((e) => join(e.parentPath, e.name));

describe('core/ imports nothing outside core/', () => {
  it.each(files)('%s', (file) => {
    const specifiers = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]);
    const outside = specifiers.filter((s) => !normalize(join(dirname(file), s)).startsWith('core/'));
    expect(outside).toEqual([]);
  });
});
