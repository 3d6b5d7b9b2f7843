import type { AttemptOutcome } from '../retry.js';

/**
 * POST a JSON body and read the answer, for the HTTP channels. Transport problems and HTTP 5xx / 408 / 429 are
 * worth another try; any other 4xx is not (the URL or its token is wrong). Errors never name the URL: robot URLs
 * carry their access token.
 */
export type HttpAnswer = { ok: true; status: number; body: string } | { ok: false; outcome: AttemptOutcome };

export async function postJson(
  fetchFn: typeof fetch,
  url: string,
  body: unknown,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = signal.aborted ? 'no answer in time' : (e.cause?.code ?? e.message);
    return { ok: false, outcome: { kind: 'retry', error: `could not reach the receiver: ${why}` } };
  }
  let text = '';
  try {
    text = (await res.text()).slice(0, 2000);
  } catch {
    if (signal.aborted) return { ok: false, outcome: { kind: 'retry', error: 'the receiver did not finish its answer in time' } };
  }
  if (res.ok) return { ok: true, status: res.status, body: text };
  const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
  const retryAfter = Number(res.headers.get('retry-after'));
  const error = `the receiver answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (retryable)
    return { ok: false, outcome: { kind: 'retry', error, afterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined } };
  return { ok: false, outcome: { kind: 'failed', error: `${error} (check the channel's url and token in the farm file)` } };
}
