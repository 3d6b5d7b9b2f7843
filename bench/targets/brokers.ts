import { accessSync, constants, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import { startNodeProcess, startProcess, waitUntil } from './process.js';
import { SERVICE_PASSWORD } from './service.js';

/** The two raw fan-in references: the embedded broker alone, and Debian's Mosquitto. */
export interface BrokerUnderTest {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Credentials the fan-in subscriber uses. */
  readonly subscriber: { username?: string; password?: string };
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(farmPath: string, profileDir?: string, env: Record<string, string> = {}): Promise<BrokerUnderTest> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const proc = startNodeProcess(
    'bench/targets/broker-entry.ts',
    { FARM_CONFIG: farmPath, MQTT_PORT: String(port), MQTT_SERVICE_PASSWORD: SERVICE_PASSWORD, ...env },
    { profileDir },
  );
  await waitUntil(() => (proc.output().includes('"ready":true') ? true : undefined), 'the embedded broker to listen', 60_000, 50, proc);
  const readyAt = Date.now();
  return {
    name: 'embedded broker (aedes)',
    pid: proc.pid,
    port,
    subscriber: { username: 'farm-service', password: SERVICE_PASSWORD },
    async stop() {
      if (profileDir) writeFileSync(join(profileDir, 'window.json'), JSON.stringify({ fromMs: readyAt - spawnedAt, toMs: Date.now() - spawnedAt }));
      await proc.stop();
    },
  };
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

export function mosquittoMissing(): string | undefined {
  try {
    accessSync(MOSQUITTO, constants.X_OK);
    return undefined;
  } catch {
    return `${MOSQUITTO} not found: install it with \`sudo apt-get install -y mosquitto\` (the fan-in reference needs it), or run a scenario that does not, e.g. \`npm run bench -- pipeline\``;
  }
}

/** Mosquitto on a free port with a throw-away config: anonymous, no persistence, no queue limit (like aedes). */
export async function startMosquitto(workDir: string): Promise<BrokerUnderTest> {
  const missing = mosquittoMissing();
  if (missing) throw new Error(missing);
  const port = await freePort();
  const conf = join(workDir, `mosquitto-${port}.conf`);
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // aedes queues without a limit; Mosquitto's default (1000 per client) would drop QoS 1 fan-in messages.
      'max_queued_messages 0',
      // Mosquitto's default of 20 unacknowledged QoS 1 messages towards a client makes the QoS 1 fan-in a
      // round-trip count (about 900 msg/s here), not a broker's throughput; aedes has no such window.
      'max_inflight_messages 0',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const proc = startProcess(MOSQUITTO, ['-c', conf], {});
  await waitUntil(
    () =>
      new Promise<true | undefined>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(undefined));
      }),
    'Mosquitto to listen',
    20_000,
    50,
    proc,
  );
  return { name: 'Mosquitto', pid: proc.pid, port, subscriber: {}, stop: async () => void (await proc.stop()) };
}
