import { serveParent, toParent } from '../ipc.js';
import { newHistogram, pack, record, type Histogram } from '../stats.js';
import { payloadTs } from './payload.js';
import { createRawClient, type RawClient } from './raw-mqtt.js';

/**
 * The one subscriber of the fan-in reference: subscribes to every telemetry topic, counts what arrives and,
 * while `measure` is on, records each message's age (receive time minus the send time in its `ts`).
 */
let client: RawClient | undefined;
let received = 0;
let measuring = false;
let latency: Histogram = newHistogram();

serveParent(async (msg) => {
  switch (msg.type) {
    case 'start': {
      client = createRawClient(
        {
          host: msg.host as string,
          port: msg.port as number,
          clientId: `bench-subscriber-${process.pid}`,
          username: msg.username as string | undefined,
          password: msg.password as string | undefined,
          keepaliveSec: 0,
        },
        {
          onMessage: (_topic, payload) => {
            received++;
            if (!measuring) return;
            const ts = payloadTs(payload);
            if (ts !== undefined) record(latency, Math.max(0, Date.now() - ts));
          },
          onClose: () => toParent({ type: 'fatal', message: 'the broker closed the subscriber connection' }),
        },
      );
      await client.connect();
      const granted = await client.subscribe(msg.filter as string, msg.qos as 0 | 1);
      if (granted === 0x80) throw new Error(`the broker refused the subscription to ${String(msg.filter)}`);
      // Often: the capacity figure times when the last message arrived from these.
      setInterval(() => toParent({ type: 'progress', received, at: Date.now() }), 50).unref();
      toParent({ type: 'subscribed', granted });
      return;
    }
    case 'measure':
      // Answers with what was recorded since the previous `measure`, then starts afresh (on) or stops (off).
      toParent({ type: 'measured', received, latency: pack(latency) });
      measuring = Boolean(msg.on);
      latency = newHistogram();
      return;
    case 'count':
      toParent({ type: 'count', received, at: Date.now() });
      return;
    case 'close':
      await client?.end();
      return;
    default:
      return;
  }
});
toParent({ type: 'ready' });
