import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceMapConsumer } from 'source-map-js';

/**
 * Maps a position in a CPU profile back to the TypeScript line. tsx runs each .ts file as whitespace-minified
 * JavaScript (all on line 1) and keeps it, with its source map, in its cache (<tmpdir>/tsx-<uid>/); the profile
 * records positions in that JavaScript. When several cached versions of a file exist (it was edited), the
 * newest whose code has the function's name at the position wins.
 */
interface CachedModule {
  mtimeMs: number;
  lines: string[];
  map: unknown;
  consumer?: SourceMapConsumer;
}

export function createSourceLines(): (path: string, line0: number, column0: number, functionName: string) => number | undefined {
  let byPath: Map<string, CachedModule[]> | undefined;
  const index = () => {
    byPath = new Map();
    let dirs: string[] = [];
    try {
      dirs = readdirSync(tmpdir())
        .filter((d) => d.startsWith('tsx-'))
        .map((d) => join(tmpdir(), d));
    } catch {
      return byPath;
    }
    for (const dir of dirs) {
      let files: string[] = [];
      try {
        files = readdirSync(dir);
      } catch {
        continue;
      }
      for (const f of files) {
        try {
          const p = join(dir, f);
          const entry = JSON.parse(readFileSync(p, 'utf8')) as { code?: string; map?: { sources?: string[] } };
          const source = entry.map?.sources?.[0];
          if (!entry.code || !source) continue;
          const list = byPath.get(source) ?? [];
          list.push({ mtimeMs: statSync(p).mtimeMs, lines: entry.code.split('\n'), map: entry.map });
          byPath.set(source, list);
        } catch {
          // not a tsx cache entry
        }
      }
    }
    for (const list of byPath.values()) list.sort((a, b) => b.mtimeMs - a.mtimeMs);
    return byPath;
  };
  return (path, line0, column0, functionName) => {
    const list = (byPath ?? index()).get(path);
    if (!list) return undefined;
    const named = functionName && functionName !== '(anonymous)';
    const entry = list.find((m) => !named || (m.lines[line0] ?? '').slice(Math.max(0, column0 - 40), column0 + 80).includes(functionName)) ?? list[0];
    try {
      entry.consumer ??= new SourceMapConsumer(entry.map as ConstructorParameters<typeof SourceMapConsumer>[0]);
      return entry.consumer.originalPositionFor({ line: line0 + 1, column: column0 }).line ?? undefined;
    } catch {
      return undefined;
    }
  };
}
