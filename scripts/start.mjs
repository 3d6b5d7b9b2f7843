// `npm start` (and `npm run provision`, `mosquitto-config`, `simulate`): runs the compiled JavaScript in dist/ with
// plain node, building it first when dist/ is missing or older than the sources. Usage:
//   node scripts/start.mjs [ENTRY] [-- arguments]     ENTRY: app/main (default), app/provision, simulators/cli, …
// In an image or a production install without the sources, dist/ is taken as it is.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { staleReason } from './sources.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = /^[a-z]+\/[a-z-]+$/;

function buildNow(reason) {
  process.stderr.write(`${reason}: building it (npm run build) …\n`);
  const hasTsx = existsSync(join(ROOT, 'node_modules', 'tsx'));
  if (!hasTsx) {
    process.stderr.write('\nCannot build: the build tools (development dependencies) are not installed. Run `npm install` and then `npm run build`.\n\n');
    process.exit(2);
  }
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const args = process.argv.slice(2);
const entry = args[0] && ENTRY.test(args[0]) ? args.shift() : 'app/main';
const reason = staleReason(ROOT);
if (reason) buildNow(reason);
const script = join(ROOT, 'dist', `${entry}.js`);
if (!existsSync(script)) {
  process.stderr.write(`\nThere is no ${relative(ROOT, script)}: run npm run build.\n\n`);
  process.exit(2);
}
// The entry sees itself as the script node was started with (its own "am I the main module?" check, its arguments).
process.argv = [process.argv[0], script, ...args];
await import(pathToFileURL(script).href);
