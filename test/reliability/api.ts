/** The HTTP API as a logged-in user sees it (real POST /api/login, bearer token), for the fault tests. */
export interface Api {
  /** The Authorization header of this session, for requests the helpers below cannot make (a broken JSON body). */
  readonly auth: { authorization: string };
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export async function login(httpPort: number, username: string, password: string): Promise<Api> {
  const base = `http://127.0.0.1:${httpPort}`;
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  return {
    auth,
    async get<T>(path: string) {
      const r = await fetch(`${base}${path}`, { headers: auth });
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    },
    async send<T>(method: 'POST' | 'PUT', path: string, body: unknown) {
      const r = await fetch(`${base}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as T };
    },
  };
}

export interface AlertView {
  id: string;
  rule: string;
  zone: string;
  state: string;
  ts: number;
}
export interface CommandView {
  command: { id: string; action: string; reason: string };
  device: string;
  ts: number;
}
