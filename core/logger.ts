import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; fastify shares the same instance. Secrets and password hashes are redacted wherever they appear. */
export function createLogger(level: string = 'info', name = 'farm'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', 'secret', 'secretHash', 'passwordHash', 'token', '*.password', '*.secret', '*.secretHash', '*.passwordHash', '*.token', 'req.headers.authorization', 'req.headers.cookie'],
      censor: '[redacted]',
    },
  });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
