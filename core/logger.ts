import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  /**
   * Human-readable lines (pino-pretty: time, level, message, the fields below) for a person at a terminal; JSON
   * lines otherwise, for log collectors. The entry decides: pretty when stdout is a terminal.
   */
  pretty?: boolean;
}

const REDACT = {
  paths: [
    'password',
    'secret',
    'secretHash',
    'passwordHash',
    'token',
    '*.password',
    '*.secret',
    '*.secretHash',
    '*.passwordHash',
    '*.token',
    'req.headers.authorization',
    'req.headers.cookie',
  ],
  censor: '[redacted]',
};

/** Structured logs; fastify shares the same instance. Secrets and password hashes are redacted wherever they appear. */
export function createLogger(level: string = 'info', name = 'farm', options: LoggerOptions = {}): Logger {
  if (!options.pretty) return pino({ name, level, redact: REDACT });
  // Written on this thread as it comes (no worker), so the lines of a failing start-up are out before it exits.
  // Lists that only a log collector wants (every device with a development secret) stay out of the terminal.
  const stream = pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name,devices', singleLine: true });
  return pino({ name, level, redact: REDACT }, stream);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
