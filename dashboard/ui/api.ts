import type { ErrorBodyT } from '../errors.js';

/** fetch against the API with the session cookie; a 401 sends the page back to the login view. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBodyT | undefined,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

let onUnauthenticated: () => void = () => {};

export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options: { quiet401?: boolean } = {}): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    if (res.status === 401 && !options.quiet401) onUnauthenticated();
    throw new ApiFailure(res.status, data as ErrorBodyT | undefined);
  }
  return data as T;
}

export const get = <T>(path: string, options?: { quiet401?: boolean }) => api<T>('GET', path, undefined, options);
export const post = <T>(path: string, body?: unknown, options?: { quiet401?: boolean }) => api<T>('POST', path, body ?? {}, options);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);
