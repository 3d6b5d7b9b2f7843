import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import type { Logger } from 'pino';
import { ClusterError } from './errors.js';

/**
 * Request/response over MQTT v5: a request carries `responseTopic` and `correlationData` properties; the
 * answer goes to that topic with the same correlation data. Over MQTT 3.1.1 (no properties) the two travel
 * in the JSON body as `replyTo` and `correlation`. Bodies:
 *   request  {"method": "actuators", "args": [...]}
 *   answer   {"ok": true, "value": ...} | {"ok": false, "error": {"name", "code", "message"}}
 */
export interface WireError {
  name: string;
  code?: string;
  message: string;
}
type Answer = { ok: true; value: unknown } | { ok: false; error: WireError };
interface Request {
  method: string;
  args: unknown[];
  replyTo?: string;
  correlation?: string;
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

export interface RpcClient {
  start(): Promise<void>;
  call(topic: string, method: string, args: unknown[], who: string): Promise<unknown>;
  stop(): void;
}

export function createRpcClient(o: RpcClientOptions): RpcClient {
  const waiting = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (topic !== o.replyTopic) return;
    let answer: Answer & { correlation?: string };
    try {
      answer = JSON.parse(payload.toString('utf8'));
    } catch {
      return o.logger.warn({ topic }, 'ignored an unreadable answer');
    }
    const id = packet.properties?.correlationData?.toString('utf8') ?? answer.correlation;
    const w = id ? waiting.get(id) : undefined;
    if (!w) return; // late answer after the timeout
    waiting.delete(id!);
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
      const body: Request = { method, args };
      if (o.protocolVersion === 4) Object.assign(body, { replyTo: o.replyTopic, correlation: id });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new ClusterError('RULES_TIMEOUT', `${who} did not answer "${method}" within ${o.timeoutMs} ms: check that it is running and connected to the broker (its log and /health), or raise RPC_TIMEOUT`));
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

export type Handlers = Record<string, (...args: never[]) => unknown>;

/** Answers requests on `topic` by calling the handler of the same name. */
export function serveRpc(o: { client: MqttClient; topic: string; handlers: Handlers; logger: Logger }): { start(): Promise<void>; stop(): void } {
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (topic !== o.topic) return;
    let req: Request;
    try {
      req = JSON.parse(payload.toString('utf8'));
    } catch {
      return o.logger.warn({ topic }, 'ignored an unreadable request');
    }
    const replyTo = packet.properties?.responseTopic ?? req.replyTo;
    const correlationData = packet.properties?.correlationData;
    if (!replyTo) return o.logger.warn({ method: req.method }, 'ignored a request without a response topic');
    const answer = (a: Answer) =>
      o.client.publish(replyTo, JSON.stringify(correlationData ? a : { ...a, correlation: req.correlation }), { qos: 1, properties: correlationData ? { correlationData } : undefined });
    const handler = Object.hasOwn(o.handlers, req.method) ? o.handlers[req.method] : undefined;
    if (!handler || !Array.isArray(req.args)) return answer({ ok: false, error: { name: 'Error', code: 'BAD_REQUEST', message: `no method "${req.method}"` } });
    Promise.resolve()
      .then(() => (handler as (...a: unknown[]) => unknown)(...req.args))
      .then(
        (value) => answer({ ok: true, value: value ?? null }),
        (err: Error & { code?: string }) => {
          if (!err?.code) o.logger.error({ err, method: req.method }, 'a request from another process failed');
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
