import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDevice } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { servicePorts, spawnService, waitHealthy, type ServiceProcess } from '../helpers/process.js';
import { login } from '../reliability/api.js';
import { dingTalkStandIn, webhookStandIn, type Receiver } from './receivers.js';

/**
 * An escalation due while the service is down still happens after it comes back: the real service as an OS
 * process, a real sensor over MQTT, kill -9 between the raise and the escalation, restart on the same DATA_DIR.
 * The DingTalk group and the duty phone are real local HTTP servers standing in for DingTalk and a phone gateway
 * (the real services cannot be reached from here); the DingTalk stand-in checks the signature.
 */
const SECRET = 'SECdev-only-restart-secret';
const ESCALATE_AFTER_MS = 8000;
const dir = mkdtempSync(join(tmpdir(), 'farm-notify-restart-'));
let proc: ServiceProcess | undefined;
let sensor: MqttClient | undefined;
let group: Receiver;
let phone: Receiver;

function writeFarm(): string {
  const path = join(dir, 'farm.yaml');
  writeFileSync(
    path,
    stringify({
      sites: [
        {
          id: 'huyang',
          name: { en: 'Huyang lake-sheep farm', zh: '湖羊养殖场' },
          language: 'zh-CN',
          zones: [
            {
              id: 'shed-1',
              name: { en: 'Shed 1', zh: '1号羊舍' },
              kind: 'shed',
              devices: [{ id: 'shed-1-env', role: 'sensor', secret: 'dev-only-shed-1-env' }],
            },
          ],
        },
      ],
      users: [{ name: 'admin', role: 'admin', password: 'dev-only-admin' }],
      channels: [
        { id: 'shed-group', type: 'dingtalk', url: `${group.url}/robot/send?access_token=dev-only-token`, secret: SECRET },
        { id: 'duty-phone', type: 'webhook', url: `${phone.url}/duty` },
      ],
      notifications: [
        {
          match: { site: 'huyang', severity: ['warning', 'critical'] },
          channels: ['shed-group'],
          repeat: '1h',
          escalate: { after: `${ESCALATE_AFTER_MS}ms`, channels: ['duty-phone'] },
        },
      ],
      rules: [
        {
          id: 'shed-ammonia',
          scope: { kind: 'shed' },
          when: { metric: 'nh3', above: 20, clearBelow: 15 },
          actions: [{ alert: { severity: 'warning', message: { en: 'Ammonia {value} ppm', zh: '氨气 {value} ppm' } } }],
        },
      ],
    }),
  );
  return path;
}

afterAll(async () => {
  await sensor?.endAsync(true).catch(() => {});
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await Promise.all([group?.close(), phone?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('notifications across a restart', () => {
  it('an escalation due while the service was killed is sent after it restarts, to the duty phone, about the same alert', async () => {
    [group, phone] = await Promise.all([dingTalkStandIn(SECRET), webhookStandIn()]);
    const ports = await servicePorts();
    const env = {
      ...ports,
      DATA_DIR: join(dir, 'data'),
      FARM_CONFIG: writeFarm(),
      PUBLIC_URL: 'http://farm.test:3000',
      NOTIFY_GROUP_WAIT: '200ms',
      NOTIFY_GROUP_INTERVAL: '500ms',
    };
    proc = spawnService(env);
    await waitHealthy(Number(ports.HTTP_PORT), proc);

    sensor = await connectDevice(Number(ports.MQTT_PORT), 'shed-1-env', 'dev-only-shed-1-env');
    await sensor.publishAsync('farm/huyang/shed-1/shed-1-env/telemetry', JSON.stringify({ metrics: { nh3: 31 } }), { qos: 1 });
    const [raised] = await group.waitFor(1, 20_000);
    const raisedAt = Date.now();
    expect(raised.body.markdown.title).toBe('【警告·触发】 1号羊舍：氨气 31 ppm');
    await sensor.endAsync(true);
    sensor = undefined;
    // The outcome of that send is on disk (a send cut short by the kill would be made again after the restart:
    // at least once, never lost).
    const before = await login(Number(ports.HTTP_PORT), 'admin', 'dev-only-admin');
    await waitFor(
      async () => (await before.get<{ deliveries: { outcome: string }[] }>('/api/notifications')).deliveries.some((d) => d.outcome === 'sent') || undefined,
      'the raise recorded as sent',
    );

    // Killed before the escalation is due; restarted only once it is overdue.
    proc.child.kill('SIGKILL');
    await proc.exited;
    expect(phone.received).toHaveLength(0);
    const overdue = raisedAt + ESCALATE_AFTER_MS + 500 - Date.now();
    if (overdue > 0) await new Promise((r) => setTimeout(r, overdue));

    proc = spawnService(env);
    await waitHealthy(Number(ports.HTTP_PORT), proc);
    const [escalated] = await phone.waitFor(1, 20_000);
    expect(escalated.body.alerts).toHaveLength(1);
    const { reason, alert } = escalated.body.alerts[0];
    expect(reason).toBe('escalate');
    expect(alert).toMatchObject({ rule: 'shed-ammonia', site: 'huyang', zone: 'shed-1', value: 31 });
    expect(escalated.body.title).toMatch(/^【警告·自 .* \(UTC\) 起未确认】 1号羊舍：氨气 31 ppm$/);

    // The deliveries of that alert, as an operator sees them after the restart: the group's raise and the duty escalation.
    const api = await login(Number(ports.HTTP_PORT), 'admin', 'dev-only-admin');
    const list = await waitFor(async () => {
      const { deliveries } = await api.get<{ deliveries: { channel: string; outcome: string; alerts: { id: string; reason: string }[] }[] }>(
        `/api/notifications?alert=${encodeURIComponent(alert.id)}`,
      );
      return deliveries.filter((d) => d.outcome === 'sent').length === 2 ? deliveries : undefined;
    }, 'both deliveries recorded as sent');
    expect(list.map((d) => [d.channel, d.alerts[0].reason]).sort()).toEqual([
      ['duty-phone', 'escalate'],
      ['shed-group', 'raised'],
    ]);
    // The restart did not notify the group of the raise a second time.
    expect(group.received.map((r) => r.body.markdown.title)).toEqual([raised.body.markdown.title]);
  }, 120_000);
});
