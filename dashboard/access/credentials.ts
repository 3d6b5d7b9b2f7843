import type { Session, SessionEndReason, SessionStore } from '../sessions.js';
import type { DisplayTokens } from './displays.js';

/** A presented token, whichever kind: a person's login session or a wall display's token. */
export interface Credentials {
  resolve(token: string | undefined): Session | undefined;
  /** The session again, by id, if it is still valid (a live connection re-checking it). */
  current(session: Pick<Session, 'id' | 'kind'>): Session | undefined;
  onEnd(listener: (session: Session, reason: SessionEndReason) => void): void;
}

export function createCredentials(sessions: SessionStore, displays: DisplayTokens): Credentials {
  return {
    resolve: (token) => sessions.get(token) ?? displays.session(token),
    current: (s) => (s.kind === 'login' ? sessions.byId(s.id) : displays.byId(s.id)),
    onEnd(listener) {
      sessions.onEnd(listener);
      displays.onEnd(listener);
    },
  };
}
