import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Who Mosquitto reads its files as. Started as root, Mosquitto 2 drops to the user of the `user` option
 * (default `mosquitto`) before it opens the password file, so files only root can read stop it with
 * "Unable to open pwfile". Started as any other user it stays that user. `npm run mosquitto-config` therefore
 * gives the files to the user Mosquitto will be, and says when a folder on the way is closed to it.
 */
export interface PosixUser {
  name: string;
  uid: number;
  gid: number;
}

/** The user Mosquitto started as root drops to when the config names none (mosquitto(8), "user"). */
export const MOSQUITTO_DEFAULT_USER = 'mosquitto';

/** A user of /etc/passwd by name (Node has no getpwnam). */
export function lookupUser(name: string, passwdText?: string): PosixUser | undefined {
  let text = passwdText;
  if (text === undefined) {
    try {
      text = readFileSync('/etc/passwd', 'utf8');
    } catch {
      return undefined;
    }
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * The first folder from the root down to `dir` that `user` cannot pass through (no x bit for it), or undefined
 * when it can reach `dir`. Secondary groups are not looked at: a folder open to a group only counts as closed.
 */
export function closedFolderOnTheWay(dir: string, user: PosixUser): string | undefined {
  if (user.uid === 0) return undefined;
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    const st = statSync(d);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return `${d} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${st.uid})`;
  }
  return undefined;
}
