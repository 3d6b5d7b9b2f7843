import { readFileSync, renameSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { UserT } from '../core/config/schema.js';
import { writeFileDurably } from '../core/durable-file.js';
import { hashSecret, isSecretHash } from '../core/secrets.js';
import { StoreError } from '../store/store.js';
import type { Role } from './sessions.js';

/**
 * The dashboard's users: those of the farm file, plus what an admin changed over the API (added, re-roled,
 * new password, removed). API changes are kept as an overlay in `file` (DATA_DIR/users.json), so the farm
 * file stays as the operator wrote it and a restart keeps the changes; passwords are stored only as scrypt
 * hashes. Without a file, changes last as long as the process. When another dashboard process (sharing
 * DATA_DIR) rewrites the file, it is read again on the next lookup.
 */
export interface UserInfo {
  name: string;
  role: Role;
  /** The sites the user may see; absent = every site. */
  sites?: string[];
  /** 'farm-file': as in the farm file; 'api': added or changed over the API. */
  source: 'farm-file' | 'api';
}

/** A change to a user: `sites` absent keeps the user's sites (every site for a new user), `null` gives every site. */
export interface UserChange {
  role: Role;
  password?: string;
  sites?: string[] | null;
}

export interface UserDirectory {
  find(name: string): UserT | undefined;
  list(): UserInfo[];
  /** Adds a user (needs a password) or changes an existing one's role, password and/or sites. */
  put(name: string, change: UserChange): Promise<{ user: UserInfo; created: boolean }>;
  remove(name: string): boolean;
}

export class UserChangeError extends Error {
  constructor(
    readonly code: 'PASSWORD_REQUIRED',
    message: string,
  ) {
    super(message);
    this.name = 'UserChangeError';
  }
}

const Overlay = z.object({
  users: z.array(
    z.object({
      name: z.string(),
      role: z.enum(['viewer', 'operator', 'admin']),
      passwordHash: z.string().refine(isSecretHash),
      sites: z.array(z.string()).optional(),
    }),
  ),
  removed: z.array(z.string()),
});
type OverlayT = z.infer<typeof Overlay>;

function loadOverlay(file: string | undefined, logger: Logger): OverlayT {
  const empty = { users: [], removed: [] };
  if (!file) return empty;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.error({ err, file }, 'cannot read the users file: starting with the users of the farm file');
    return empty;
  }
  const parsed = Overlay.safeParse(parseJson(text));
  if (parsed.success) return parsed.data;
  const aside = `${file}.unreadable-${Date.now()}`;
  try {
    renameSync(file, aside);
  } catch {
    // logged below
  }
  logger.error({ file, movedTo: aside }, 'the users file is not valid: moved aside, starting with the users of the farm file');
  return empty;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A crash leaves the old or the new list, never half of one, and a change answered is on disk (core/durable-file.ts). */
function saveOverlay(file: string, overlay: OverlayT): void {
  try {
    writeFileDurably(file, `${JSON.stringify(overlay, null, 1)}\n`, { mode: 0o600 });
  } catch (err) {
    throw new StoreError(
      'STORE_WRITE',
      `cannot write ${file} (${(err as Error).message}): check that DATA_DIR exists and is writable; the user was not changed`,
      true,
    );
  }
}

/** `configUsers`: the farm file's users now (a function, as the file may be reloaded while the service runs). */
export function createUserDirectory(configUsers: readonly UserT[] | (() => readonly UserT[]), options: { file?: string; logger: Logger }): UserDirectory {
  const fileUsers = typeof configUsers === 'function' ? configUsers : () => configUsers;
  // Every save renames a new file into place, so the inode tells a rewrite apart even within one mtime tick.
  const fileVersion = () => {
    try {
      if (!options.file) return '';
      const st = statSync(options.file);
      return `${st.ino}:${st.mtimeMs}`;
    } catch {
      return '';
    }
  };
  let loadedAt = fileVersion();
  let overlay = loadOverlay(options.file, options.logger);

  const current = (): Map<string, { user: UserT; source: UserInfo['source'] }> => {
    const changed = fileVersion();
    if (changed !== loadedAt) {
      loadedAt = changed;
      overlay = loadOverlay(options.file, options.logger);
    }
    const all = new Map<string, { user: UserT; source: UserInfo['source'] }>();
    for (const u of fileUsers()) if (!overlay.removed.includes(u.name)) all.set(u.name, { user: u, source: 'farm-file' });
    for (const u of overlay.users) all.set(u.name, { user: { name: u.name, role: u.role, passwordHash: u.passwordHash, sites: u.sites }, source: 'api' });
    return all;
  };
  const info = (e: { user: UserT; source: UserInfo['source'] }): UserInfo => ({
    name: e.user.name,
    role: e.user.role,
    ...(e.user.sites ? { sites: [...e.user.sites] } : {}),
    source: e.source,
  });

  function commit(next: OverlayT): void {
    if (options.file) saveOverlay(options.file, next);
    overlay = next;
    loadedAt = fileVersion();
  }

  return {
    find: (name) => current().get(name)?.user,
    list: () => [...current().values()].map(info).sort((a, b) => a.name.localeCompare(b.name)),
    async put(name, change) {
      const existing = current().get(name)?.user;
      if (!existing && !change.password) throw new UserChangeError('PASSWORD_REQUIRED', `There is no user "${name}" yet: a new user needs a password.`);
      const passwordHash = change.password ? await hashSecret(change.password) : (existing!.passwordHash ?? (await hashSecret(existing!.password!)));
      const sites = change.sites === undefined ? existing?.sites : (change.sites ?? undefined);
      const entry = { name, role: change.role, passwordHash, ...(sites ? { sites: [...sites] } : {}) };
      commit({ users: [...overlay.users.filter((u) => u.name !== name), entry], removed: overlay.removed.filter((n) => n !== name) });
      return { user: { name, role: change.role, ...(sites ? { sites: [...sites] } : {}), source: 'api' }, created: !existing };
    },
    remove(name) {
      if (!current().has(name)) return false;
      commit({
        users: overlay.users.filter((u) => u.name !== name),
        removed: fileUsers().some((u) => u.name === name) ? [...new Set([...overlay.removed, name])] : overlay.removed,
      });
      return true;
    },
  };
}
