// Loaded into the service under test by the memory benchmark
// (node --expose-gc --import ./bench/probes/heap-after-gc.mjs), never by `npm start`. On SIGUSR2 it collects all
// garbage (twice, a turn of the event loop apart: what a finalizer run by the first releases goes in the second) and
// writes the memory left to BENCH_HEAP_FILE as one line of JSON, so per-device figures count what devices keep, not
// garbage the collector had not reached yet.
import { writeFileSync } from 'node:fs';
import { setImmediate } from 'node:timers';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.BENCH_HEAP_FILE;
if (file && typeof globalThis.gc === 'function') {
  // A plain full collection. V8's 'last-resort' flavour was tried and left more in use after 10,000 devices
  // connected than a plain one (370 MB against about 260 MB), for reasons not found; the plain one agrees from run
  // to run.
  const collectAll = () => globalThis.gc();
  process.on('SIGUSR2', () => {
    collectAll();
    setImmediate(() => {
      collectAll();
      const m = process.memoryUsage();
      // The young generation's reserved size: it grows under a high allocation rate (a connection storm) and is
      // counted in RSS whatever the devices keep.
      const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
      const report = { at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, newSpace, external: m.external, arrayBuffers: m.arrayBuffers };
      writeFileSync(file, `${JSON.stringify(report)}\n`);
    });
  });
}
