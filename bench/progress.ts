/**
 * Progress on stderr while the benchmark runs: `step` starts a new line, `status` updates the current one
 * (rewritten in place on a terminal, at most every 2 s otherwise, so CI logs stay short).
 */
const started = Date.now();
const tty = process.stderr.isTTY === true;
let lastStatusAt = 0;
let statusShown = false;

const clock = () => {
  const s = Math.floor((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

export function step(message: string): void {
  if (statusShown && tty) process.stderr.write('\n');
  statusShown = false;
  process.stderr.write(`[${clock()}] ${message}\n`);
}

export function status(message: string): void {
  const now = Date.now();
  if (tty) {
    process.stderr.write(`\r\x1b[K[${clock()}]   ${message}`);
    statusShown = true;
  } else if (now - lastStatusAt >= 2000) {
    process.stderr.write(`[${clock()}]   ${message}\n`);
    lastStatusAt = now;
  }
}

export function endStatus(): void {
  if (statusShown && tty) process.stderr.write('\n');
  statusShown = false;
}
