import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Real local servers standing in for what this machine cannot reach: DingTalk's and WeCom's robot endpoints
 * (oapi.dingtalk.com, qyapi.weixin.qq.com), a duty phone's webhook, and a mail server. They check what the real
 * services check (DingTalk's signature and timestamp, WeCom's key) and answer with the real services' bodies
 * (`{"errcode":0,"errmsg":"ok"}`, a rate-limit or a refusal errcode).
 */
export interface Received {
  path: string;
  query: URLSearchParams;
  body: any;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** What the next requests are answered with (default: success). */
  answer(next: (req: Received) => { status?: number; body: unknown } | undefined): void;
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(s));
  });
}

function waiter(list: Received[]) {
  const waiting: { n: number; resolve(v: Received[]): void }[] = [];
  return {
    push(r: Received) {
      list.push(r);
      for (const w of [...waiting]) if (list.length >= w.n) waiting.splice(waiting.indexOf(w), 1) && w.resolve(list.slice());
    },
    wait(n: number, timeoutMs = 10_000): Promise<Received[]> {
      if (list.length >= n) return Promise.resolve(list.slice());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${n} requests, got ${list.length}`)), timeoutMs);
        waiting.push({ n, resolve: (v) => (clearTimeout(t), resolve(v)) });
      });
    },
  };
}

/** An HTTP receiver; `check` may refuse a request the way the real service would (returns an answer body). */
async function receiver(check: (r: Received) => { status?: number; body: unknown } | undefined, success: unknown): Promise<Receiver> {
  const received: Received[] = [];
  const w = waiter(received);
  let next: (r: Received) => { status?: number; body: unknown } | undefined = () => undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const r: Received = { path: url.pathname, query: url.searchParams, body };
    const answer = check(r) ?? next(r) ?? { body: success };
    w.push(r);
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  };
  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer: (fn) => (next = fn),
    waitFor: (n, timeoutMs) => w.wait(n, timeoutMs),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/**
 * DingTalk's robot endpoint: `/robot/send?access_token=...&timestamp=...&sign=...`. In signed mode it recomputes
 * the signature with the robot's secret and refuses a wrong one or a timestamp more than an hour off with
 * errcode 310000, as DingTalk does.
 */
export function dingTalkStandIn(secret: string): Promise<Receiver> {
  return receiver(
    (r) => {
      const ts = Number(r.query.get('timestamp'));
      const expected = createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');
      if (r.query.get('sign') !== expected || Math.abs(Date.now() - ts) > 3_600_000)
        return { body: { errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' } };
      if (!r.query.get('access_token')) return { body: { errcode: 300001, errmsg: 'token is not exist' } };
      return undefined;
    },
    { errcode: 0, errmsg: 'ok' },
  );
}

/** WeCom's robot endpoint: `/cgi-bin/webhook/send?key=...`; a wrong key is errcode 93000. */
export function weComStandIn(key: string): Promise<Receiver> {
  return receiver(
    (r) => (r.query.get('key') === key ? undefined : { body: { errcode: 93000, errmsg: 'invalid webhook url, hint: [1700000000_1], from ip: 127.0.0.1' } }),
    { errcode: 0, errmsg: 'ok' },
  );
}

/** A plain webhook (a duty phone's gateway). */
export function webhookStandIn(): Promise<Receiver> {
  return receiver(() => undefined, { ok: true });
}

/** Takes connections and requests and never answers: the slow channel that must not hold up the others. */
export async function hangingReceiver(): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  let requests = 0;
  const server = createServer(() => {
    requests += 1;
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests: () => requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** A real SMTP server (smtp-server) on a free port; mails are parsed with mailparser as a mail client would. */
export async function smtpStandIn(): Promise<{ url: string; mails: Mail[]; waitFor(n: number, timeoutMs?: number): Promise<Mail[]>; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const waiting: { n: number; resolve(v: Mail[]): void }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, cb) =>
      auth.username === 'farm' && auth.password === 'dev-only-mail' ? cb(null, { user: 'farm' }) : cb(new Error('Invalid username or password')),
    onData(stream, session, callback) {
      void simpleParser(stream).then((m) => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, subject: m.subject ?? '', text: m.text ?? '' });
        for (const w of [...waiting]) if (mails.length >= w.n) waiting.splice(waiting.indexOf(w), 1) && w.resolve(mails.slice());
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://farm:dev-only-mail@127.0.0.1:${port}`,
    mails,
    waitFor(n, timeoutMs = 10_000) {
      if (mails.length >= n) return Promise.resolve(mails.slice());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${n} mails, got ${mails.length}`)), timeoutMs);
        waiting.push({ n, resolve: (v) => (clearTimeout(t), resolve(v)) });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
