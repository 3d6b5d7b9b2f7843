import nodemailer from 'nodemailer';
import type { AttemptOutcome } from '../retry.js';
import type { ChannelSend } from './types.js';

/**
 * `type: email`: plain-text mail over SMTP (nodemailer) to the channel's `to`, through the server in SMTP_URL
 * (`smtp://user:pass@host:587`, or `smtps://` for TLS from the start). SMTP 4xx and connection trouble are tried
 * again; 5xx (mailbox refused, relay denied) and a refused login are failures that say what to check.
 */
export interface Mailer {
  send(mail: { from: string; to: string[]; subject: string; text: string }, signal: AbortSignal): Promise<AttemptOutcome>;
  close(): void;
}

export function createMailer(smtpUrl: string, timeoutMs: number): Mailer {
  const transport = nodemailer.createTransport(smtpUrl, { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs } as never);
  return {
    async send(mail, signal) {
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<AttemptOutcome>((resolve) => {
        onAbort = () => resolve({ kind: 'retry', error: 'the mail server did not answer in time' });
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([transport.sendMail(mail).then((): AttemptOutcome => ({ kind: 'sent' }), smtpOutcome), aborted]);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
    close: () => transport.close(),
  };
}

export function smtpOutcome(err: unknown): AttemptOutcome {
  const e = err as Error & { code?: string; responseCode?: number; response?: string };
  const said = e.response ? `: ${e.response.slice(0, 200)}` : '';
  if (e.code === 'EAUTH') return { kind: 'failed', error: `the mail server refused the login${said}; check the user and password in SMTP_URL` };
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return {
      kind: 'failed',
      error: `the mail server refused the message (${e.responseCode})${said}; check the channel's addresses and the server's relay settings`,
    };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400)
    return { kind: 'retry', error: `the mail server deferred the message (${e.responseCode})${said}` };
  return { kind: 'retry', error: `could not send through the mail server: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ').trim() };
}

/** The sender: the channel's `from`, else the SMTP user when it is an address, else farmwatch@localhost. */
export function defaultFrom(smtpUrl: string | undefined): string {
  try {
    const user = smtpUrl ? decodeURIComponent(new URL(smtpUrl).username) : '';
    return user.includes('@') ? user : 'farmwatch@localhost';
  } catch {
    return 'farmwatch@localhost';
  }
}

export function emailSender(channel: { to: string[]; from?: string }, mailer: Mailer | undefined, smtpUrl: string | undefined): ChannelSend {
  return async (payload, signal) => {
    if (!mailer) return { kind: 'failed', error: 'no mail server: set SMTP_URL (e.g. smtp://user:pass@mail.example.org:587) and restart' };
    return mailer.send({ from: channel.from ?? defaultFrom(smtpUrl), to: channel.to, subject: payload.message.title, text: payload.message.text }, signal);
  };
}
