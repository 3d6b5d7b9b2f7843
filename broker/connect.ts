import type { AuthenticateError, Client } from 'aedes';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import type { ConnectionLimits } from './connection-limits.js';
import { authenticate, type Identity, type ServiceCredentials } from './policy.js';

/**
 * The CONNECT step (aedes' authenticate hook): bans first (cheap, before any scrypt), then credentials, then
 * client-id ownership, then the reconnect-rate check. Return codes are MQTT 3.1.1's: 2 identifier rejected,
 * 3 server unavailable (a temporary ban: the credentials may be right, try later), 4 bad user name or password.
 */
export const IDENTITY = Symbol('farmIdentity');
/** Set on an accepted socket by the listener; called once the socket is no longer an unauthenticated one. */
export const SETTLE_PENDING = Symbol('settlePending');

export type FarmClient = Client & { [IDENTITY]?: Identity };
type GuardedConn = { remoteAddress?: string; [SETTLE_PENDING]?: () => void };

export interface ConnectDeps {
  farm: () => FarmIndex;
  service: ServiceCredentials;
  limits: ConnectionLimits;
  logger: Logger;
  metrics: FarmMetrics;
  refused: Counter<'reason'>;
}

export function addressOf(client: Client): string {
  return (client.conn as unknown as GuardedConn).remoteAddress ?? 'unknown';
}

/** Devices are one identity each; service components share a username, so each of their client ids counts. */
function identityKey(service: ServiceCredentials, username: string | undefined, clientId: string): string {
  return username === undefined || username === service.username ? `client:${clientId}` : `device:${username}`;
}

function refusal(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  err.returnCode = returnCode;
  return err;
}

export function createAuthenticateHook(deps: ConnectDeps) {
  const { limits, logger, metrics } = deps;

  return (client: Client, username: string | undefined, password: Buffer | undefined, done: (err: AuthenticateError | null, ok: boolean | null) => void) => {
    const address = addressOf(client);
    const key = identityKey(deps.service, username, client.id);
    const ban = limits.banFor(address, username, key);
    if (ban) {
      deps.refused.inc({ reason: ban.reason });
      logger.debug({ clientId: client.id, username, address, reason: ban.reason }, 'MQTT connection refused: temporarily banned');
      return done(refusal(3, `temporarily refused (${ban.reason}) until ${new Date(ban.untilMs).toISOString()}`), false);
    }

    authenticate(deps.farm(), deps.service, username, password).then(
      (result) => {
        if (!result.ok) {
          metrics.authFailures.inc({ reason: result.reason });
          logger.warn({ clientId: client.id, username, address, reason: result.reason }, 'MQTT connection refused');
          // Only a wrong secret for a name that exists is a guess worth counting; unknown names cost nothing to refuse.
          if (username !== undefined && result.reason === 'bad_secret') {
            const banned = limits.authFailed(address, username);
            if (banned) logger.warn({ username, address, untilMs: banned.untilMs }, 'too many wrong secrets for this name from this address: refused for a while');
          }
          return done(refusal(result.reason === 'no_secret' ? 5 : 4, `connection refused: ${result.reason}`), false);
        }
        // A device may not take over another device's session by borrowing its client id.
        const owner = deps.farm().device(client.id);
        if (result.identity.kind === 'device' && owner && owner.device !== result.identity.device.device) {
          metrics.authFailures.inc({ reason: 'foreign_client_id' });
          return done(refusal(2, 'client id belongs to another device'), false);
        }
        const flapping = limits.connected(key);
        if (flapping) {
          deps.refused.inc({ reason: 'flapping' });
          logger.warn({ clientId: client.id, username, address, untilMs: flapping.untilMs }, 'client reconnects too often: refused for a while');
          return done(refusal(3, 'reconnecting too often: refused for a while'), false);
        }
        (client.conn as unknown as GuardedConn)[SETTLE_PENDING]?.();
        (client as FarmClient)[IDENTITY] = result.identity;
        done(null, true);
      },
      (err) => {
        logger.error({ err }, 'authentication failed unexpectedly');
        done(refusal(3, 'server unavailable'), false);
      },
    );
  };
}
