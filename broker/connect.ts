import type { AuthenticateError, Client } from 'aedes';
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { FarmIndex } from '../core/farm-index.js';
import type { FarmMetrics } from '../core/observability.js';
import type { ConnectionLimits } from './connection-limits.js';
import { authenticate, checkClientIdLength, mayUseClientId, type Identity, type ServiceCredentials } from './policy.js';

/**
 * The CONNECT step (aedes' authenticate hook): the client id's length and bans first (cheap, before any scrypt),
 * then credentials, then client-id ownership, then the reconnect-rate check. Return codes are MQTT 3.1.1's:
 * 2 identifier rejected, 3 server unavailable (a temporary ban: the credentials may be right, try later), 4 bad user
 * name or password, 5 not authorised (the service user has no password configured).
 */
/**
 * What the broker knows of a connection beside aedes: its identity once authenticated, whether aedes assigned its
 * client id (preConnect), and (on the socket) how to tell the listener it logged in. Kept in WeakMaps, not as
 * properties of aedes' Client and the socket: a property added to an object after it was built makes V8 grow its
 * property storage, about a kilobyte a connection here (issue 18, heap snapshots of 3,000 connections).
 */
const identities = new WeakMap<object, Identity>();
const brokerAssigned = new WeakSet<object>();
const loginHooks = new WeakMap<object, { settle(): void }>();

export function identityOf(client: Client | null | undefined): Identity | undefined {
  return client ? identities.get(client) : undefined;
}

/** The preConnect hook: the client sent an empty client id and aedes assigned a random one. */
export function markBrokerAssignedId(client: Client, assigned: boolean): void {
  if (assigned) brokerAssigned.add(client);
}

/** Set by the listener on an accepted socket; called once the socket is no longer an unauthenticated one. */
export function onLogin(socket: object, pending: { settle(): void }): void {
  loginHooks.set(socket, pending);
}

type GuardedConn = { remoteAddress?: string };

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

/** The key bans are kept under: devices are one identity each; anyone else by client id (only devices get flapping bans). */
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
    const length = checkClientIdLength(client.id);
    if (!length.ok) {
      metrics.authFailures.inc({ reason: length.reason });
      logger.warn({ clientIdLength: client.id.length, username, address }, 'MQTT connection refused: client id too long');
      return done(refusal(2, length.message), false);
    }
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
          // Unknown names count too, per (address, name): a name that gets banned while another does not would tell
          // which names exist, as a quicker refusal would (policy.ts authenticate).
          if (username !== undefined && (result.reason === 'bad_secret' || result.reason === 'unknown_device')) {
            const banned = limits.authFailed(address, username);
            if (banned)
              logger.warn({ username, address, untilMs: banned.untilMs }, 'too many wrong secrets for this name from this address: refused for a while');
          }
          return done(refusal(result.reason === 'no_secret' ? 5 : 4, `connection refused: ${result.reason}`), false);
        }
        // Nobody takes over another identity's session by borrowing its client id (policy.ts mayUseClientId).
        const clientId = mayUseClientId(deps.farm(), result.identity, client.id, brokerAssigned.has(client));
        if (!clientId.ok) {
          metrics.authFailures.inc({ reason: clientId.reason });
          logger.warn({ clientId: client.id, username, address }, `MQTT connection refused: ${clientId.message}`);
          return done(refusal(2, clientId.message), false);
        }
        // Service components are not counted for reconnecting: they are ours, and a ban would stop ingest or rules for
        // its length. Devices could knock them off into such a loop only by taking their client ids, refused above.
        const flapping = result.identity.kind === 'device' ? limits.connected(key) : undefined;
        if (flapping) {
          deps.refused.inc({ reason: 'flapping' });
          logger.warn({ clientId: client.id, username, address, untilMs: flapping.untilMs }, 'client reconnects too often: refused for a while');
          return done(refusal(3, 'reconnecting too often: refused for a while'), false);
        }
        loginHooks.get(client.conn)?.settle();
        loginHooks.delete(client.conn);
        identities.set(client, result.identity);
        done(null, true);
      },
      (err) => {
        logger.error({ err }, 'authentication failed unexpectedly');
        done(refusal(3, 'server unavailable'), false);
      },
    );
  };
}
