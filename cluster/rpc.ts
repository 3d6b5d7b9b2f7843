import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ClusterError } from './errors.js';

/**
 * Request/response over MQTT v5: a request carries `responseTopic` and `correlationData` properties; the
 * answer goes to that topic with the same correlation data. Over MQTT 3.1.1 (no properties) the two travel
 * in the JSON body as `replyTo` and `correlation`. Bodies:
 *   request  {"method": "actuators", "args": [...]}
 *   answer   {"ok": true, "value": ...} | {"ok": false, "error": {"name", "code", "message"}}
 *
 * An API offered this way is an in-process interface (e.g. RulesHandle): `ApiArgs<A>` gives, per method, the zod
 * schema of its arguments as they arrive, which must produce exactly the method's parameters (the compiler checks
 * it); `callerOf<A>` and `serveApi<A>` take method names, arguments and results from A, so neither side builds a
 * request or reads an answer by hand. JSON has no `undefined`: an argument left out arrives as null, and the
 * schemas turn it back (`optional`), so the handle validates it exactly as for a local caller.
 */
export interface WireError {
  name: string;
  code?: string;
  message: string;
}

const WireErrorSchema = z.object({ name: z.string(), code: z.string().optional(), message: z.string() });
const AnswerSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown(), correlation: z.string().optional() }),
  z.object({ ok: z.literal(false), error: WireErrorSchema, correlation: z.string().optional() }),
]);
type Answer = { ok: true; value: unknown } | { ok: false; error: WireError };
const RequestSchema = z.object({ method: z.string(), args: z.array(z.unknown()), replyTo: z.string().optional(), correlation: z.string().optional() });
type Request = z.output<typeof RequestSchema>;

/** An interface offered to other processes (A extends Api<A>): its members are methods, whose results may be promises. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the constraint any method satisfies; A's own parameter types are what is used
export type Api<A> = { [M in keyof A]: (...args: any[]) => unknown };
export type ApiMethod<A> = keyof A & string;
type Method<A extends Api<A>, M extends ApiMethod<A>> = A[M];
/** Per method, the schema of its arguments on the wire (a tuple) whose output is the method's parameters. */
export type ApiArgs<A extends Api<A>> = { [M in ApiMethod<A>]: z.ZodType<Parameters<Method<A, M>>, unknown> };

/** An argument that may be left out: null on the wire (JSON), undefined for the handle. */
export const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface RpcClientOptions {
  client: MqttClient;
  protocolVersion: 4 | 5;
  replyTopic: string;
  timeoutMs: number;
  logger: Logger;
  /** Turns an error answer back into the error the local caller expects (e.g. ActuatorError). */
  revive?: (error: WireError) => Error;
}

/** The transport: one request out, its answer back (or a ClusterError). Use it through callerOf. */
export interface RpcClient {
  start(): Promise<void>;
  call(topic: string, method: string, args: readonly unknown[], who: string): Promise<unknown>;
  stop(): void;
}

export function createRpcClient(o: RpcClientOptions): RpcClient {
  const waiting = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (topic !== o.replyTopic) return;
    const parsed = AnswerSchema.safeParse(parseJson(payload));
    if (!parsed.success) return o.logger.warn({ topic }, 'ignored an unreadable answer');
    const answer = parsed.data;
    const id = packet.properties?.correlationData?.toString('utf8') ?? answer.correlation;
    const w = id ? waiting.get(id) : undefined;
    if (!id || !w) return; // late answer after the timeout
    waiting.delete(id);
    clearTimeout(w.timer);
    if (answer.ok) w.resolve(answer.value);
    else w.reject(o.revive ? o.revive(answer.error) : Object.assign(new Error(answer.error.message), { name: answer.error.name, code: answer.error.code }));
  };
  return {
    async start() {
      o.client.on('message', onMessage);
      await o.client.subscribeAsync(o.replyTopic, { qos: 1 });
    },
    call(topic, method, args, who) {
      const id = randomUUID();
      const body: Request = { method, args: [...args] };
      if (o.protocolVersion === 4) Object.assign(body, { replyTo: o.replyTopic, correlation: id });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(
            new ClusterError(
              'RULES_TIMEOUT',
              `${who} did not answer "${method}" within ${o.timeoutMs} ms: check that it is running and connected to the broker (its log and /health), or raise RPC_TIMEOUT`,
            ),
          );
        }, o.timeoutMs);
        waiting.set(id, { resolve, reject, timer });
        const properties = o.protocolVersion === 5 ? { responseTopic: o.replyTopic, correlationData: Buffer.from(id) } : undefined;
        o.client.publish(topic, JSON.stringify(body), { qos: 1, properties }, (err) => {
          if (!err) return;
          clearTimeout(timer);
          waiting.delete(id);
          reject(new ClusterError('RULES_UNAVAILABLE', `could not send "${method}" to ${who}: ${err.message}`));
        });
      });
    },
    stop() {
      o.client.off('message', onMessage);
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new ClusterError('RULES_UNAVAILABLE', 'the dashboard is stopping'));
      }
      waiting.clear();
    },
  };
}

/** Calls a method of A in the process answering on `topic`, typed by A. */
export type ApiCaller<A extends Api<A>> = <M extends ApiMethod<A>>(
  topic: string,
  who: string,
  method: M,
  ...args: Parameters<Method<A, M>>
) => Promise<Awaited<ReturnType<Method<A, M>>>>;

/**
 * The typed side of the transport for one API. The answer is the value the serving process's handle returned for
 * the same method of the same interface (serveApi<A>), so it is taken as that method's result.
 */
export function callerOf<A extends Api<A>>(rpc: Pick<RpcClient, 'call'>): ApiCaller<A> {
  return function call<M extends ApiMethod<A>>(topic: string, who: string, method: M, ...args: Parameters<Method<A, M>>) {
    return rpc.call(topic, method, args, who) as Promise<Awaited<ReturnType<Method<A, M>>>>;
  };
}

/** Answers requests on `topic` by calling the method of the same name on `api`, with its arguments checked by `args`. */
export function serveApi<A extends Api<A>>(o: {
  client: MqttClient;
  topic: string;
  api: A;
  args: ApiArgs<A>;
  logger: Logger;
}): { start(): Promise<void>; stop(): void } {
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (topic !== o.topic) return;
    const parsed = RequestSchema.safeParse(parseJson(payload));
    if (!parsed.success) return o.logger.warn({ topic }, 'ignored an unreadable request');
    const req = parsed.data;
    const replyTo = packet.properties?.responseTopic ?? req.replyTo;
    const correlationData = packet.properties?.correlationData;
    if (!replyTo) return o.logger.warn({ method: req.method }, 'ignored a request without a response topic');
    const answer = (a: Answer) =>
      o.client.publish(replyTo, JSON.stringify(correlationData ? a : { ...a, correlation: req.correlation }), {
        qos: 1,
        properties: correlationData ? { correlationData } : undefined,
      });
    const method = req.method as ApiMethod<A>;
    if (!Object.hasOwn(o.args, method)) return answer({ ok: false, error: { name: 'Error', code: 'BAD_REQUEST', message: `no method "${req.method}"` } });
    const args = o.args[method].safeParse(req.args);
    if (!args.success)
      return answer({ ok: false, error: { name: 'Error', code: 'BAD_REQUEST', message: `"${method}" was called with ${z.prettifyError(args.error)}` } });
    Promise.resolve()
      .then(() => o.api[method](...args.data))
      .then(
        (value) => answer({ ok: true, value: value ?? null }),
        (err: Error & { code?: string }) => {
          if (!err?.code) o.logger.error({ err, method }, 'a request from another process failed');
          answer({ ok: false, error: { name: err?.name ?? 'Error', code: err?.code, message: err?.message ?? String(err) } });
        },
      );
  };
  return {
    async start() {
      o.client.on('message', onMessage);
      await o.client.subscribeAsync(o.topic, { qos: 1 });
    },
    stop() {
      o.client.off('message', onMessage);
    },
  };
}
