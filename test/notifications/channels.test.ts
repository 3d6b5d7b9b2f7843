import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmConfig, type FarmConfigT } from '../../core/config/schema.js';
import type { AlertEvent } from '../../core/domain.js';
import { FarmBus } from '../../core/events.js';
import { indexFarm } from '../../core/farm-index.js';
import { silentLogger } from '../../core/logger.js';
import { createMetrics } from '../../core/observability.js';
import { createNotifications, type Notifications } from '../../notifications/notifications.js';
import { waitFor } from '../helpers/ports.js';
import { dingTalkStandIn, hangingReceiver, smtpStandIn, webhookStandIn, weComStandIn, type Receiver } from './receivers.js';

/**
 * The notifications component against real servers: a real SMTP server (smtp-server) and real local HTTP servers
 * standing in for DingTalk's and WeCom's robot endpoints and a duty phone's webhook (the real services cannot be
 * reached from here). The stand-ins check DingTalk's signature and WeCom's key and answer with the services'
 * success and error bodies. Real clock, with short grouping and retry times so the test does not wait minutes.
 */
const SECRET = 'SECdev-only-robot-secret';
let ding: Receiver;
let wecom: Receiver;
let hook: Receiver;
let hang: Awaited<ReturnType<typeof hangingReceiver>>;
let smtp: Awaited<ReturnType<typeof smtpStandIn>>;
let bus: FarmBus;
let n: Notifications;
let config: FarmConfigT;
const metrics = createMetrics();

function farm(): FarmConfigT {
  const pipes = Array.from({ length: 11 }, (_, i) => {
    const id = `pipe-${String(i + 1).padStart(2, '0')}`;
    return { id, name: { en: `Pipe ${i + 1}`, zh: `${i + 1}号管道` }, kind: 'drain', devices: [{ id: `${id}-level`, role: 'sensor' }] };
  });
  return FarmConfig.parse({
    sites: [
      {
        id: 'huyang',
        name: { en: 'Huyang lake-sheep farm', zh: '湖羊养殖场' },
        language: 'zh-CN',
        zones: [{ id: 'shed-1', name: { en: 'Shed 1', zh: '1号羊舍' }, kind: 'shed', devices: [{ id: 'shed-1-env', role: 'sensor' }] }],
      },
      { id: 'xihu-drain', name: 'Xihu district drainage', zones: pipes },
    ],
    channels: [
      { id: 'shed-group', type: 'dingtalk', url: `${ding.url}/robot/send?access_token=dev-only-token`, secret: SECRET },
      { id: 'wrong-secret', type: 'dingtalk', url: `${ding.url}/robot/send?access_token=dev-only-token`, secret: 'SECwrong' },
      { id: 'drain-group', type: 'wecom', url: `${wecom.url}/cgi-bin/webhook/send?key=dev-only-key` },
      { id: 'duty-phone', type: 'webhook', url: `${hook.url}/duty` },
      { id: 'slow-phone', type: 'webhook', url: hang.url },
      { id: 'duty-mail', type: 'email', to: ['duty@example.org'], from: 'farm@example.org' },
    ],
    notifications: [
      { match: { site: 'huyang' }, channels: ['shed-group', 'slow-phone', 'duty-mail', 'wrong-secret'] },
      { match: { site: 'xihu-drain' }, channels: ['drain-group', 'duty-phone'] },
    ],
  });
}

const T = Date.now();
const alert = (over: Partial<AlertEvent>): AlertEvent => ({
  id: 'x',
  rule: 'r',
  site: 'huyang',
  zone: 'shed-1',
  severity: 'warning',
  level: null,
  value: null,
  metric: null,
  state: 'raised',
  message: 'm',
  ts: T,
  ...over,
});

beforeAll(async () => {
  [ding, wecom, hook, hang, smtp] = await Promise.all([
    dingTalkStandIn(SECRET),
    weComStandIn('dev-only-key'),
    webhookStandIn(),
    hangingReceiver(),
    smtpStandIn(),
  ]);
  config = farm();
  bus = new FarmBus();
  n = createNotifications(
    { config, farm: indexFarm(config), bus, logger: silentLogger(), metrics },
    {
      smtpUrl: smtp.url,
      publicUrl: 'http://farm.test:3000',
      group: { waitMs: 300, intervalMs: 1000 },
      tickMs: 50,
      attemptTimeoutMs: 3000,
      retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 1000 },
    },
  );
  n.start();
});

afterAll(async () => {
  await n.stop();
  await Promise.all([ding.close(), wecom.close(), hook.close(), hang.close(), smtp.close()]);
});

const deliveriesOf = async (alertId: string) => await n.deliveries({ alert: alertId });

describe('notification channels', () => {
  it('an ammonia alert reaches the DingTalk group (signed) and the duty mailbox in the site language, while a hanging receiver and a robot with a wrong secret hold up nothing', async () => {
    bus.emit(
      'alert',
      alert({
        id: 'nh3-1',
        rule: 'shed-ammonia',
        device: 'shed-1-env',
        value: 26.4,
        metric: 'nh3',
        message: 'Ammonia 26.4 ppm',
        messages: { en: 'Ammonia 26.4 ppm', zh: '氨气 26.4 ppm' },
      }),
    );
    const [robot] = await ding.waitFor(1);
    // The hanging receiver has the request and has not answered: DingTalk did not wait for it.
    expect((await deliveriesOf('nh3-1')).find((d) => d.channel === 'slow-phone')).toMatchObject({ outcome: 'queued', attempts: 0 });
    expect(robot.body.msgtype).toBe('markdown');
    expect(robot.body.markdown.title).toBe('【警告·触发】 1号羊舍：氨气 26.4 ppm');
    expect(robot.body.markdown.text).toContain('湖羊养殖场 / 1号羊舍');
    expect(robot.body.markdown.text).toContain('氨气 26.4 ppm');
    expect(robot.body.markdown.text).toContain('(UTC)');
    expect(robot.body.markdown.text).toContain('http://farm.test:3000/#/alerts?alert=nh3-1');
    const [mail] = await smtp.waitFor(1);
    expect(mail).toMatchObject({ from: 'farm@example.org', to: ['duty@example.org'], subject: '【警告·触发】 1号羊舍：氨气 26.4 ppm' });
    expect(mail.text).toContain('位置：湖羊养殖场 / 1号羊舍');
    // The robot whose secret is wrong was refused for good (errcode 310000) after one attempt: a config problem.
    const wrong = await waitFor(
      async () => (await deliveriesOf('nh3-1')).find((d) => d.channel === 'wrong-secret' && d.outcome === 'failed'),
      'the wrong-secret delivery to fail',
    );
    expect(wrong).toMatchObject({ attempts: 1, error: expect.stringMatching(/errcode 310000.*check the robot's access_token and secret/) });
    // The hanging receiver got the request and never answered; its delivery is being retried, the others are sent.
    const slow = await waitFor(
      async () => (await deliveriesOf('nh3-1')).find((d) => d.channel === 'slow-phone' && d.outcome === 'retrying'),
      'the hanging channel to time out',
    );
    expect(slow.error).toMatch(/no answer in time/);
    expect(hang.requests()).toBeGreaterThanOrEqual(1);
    const sent = (await deliveriesOf('nh3-1'))
      .filter((d) => d.outcome === 'sent')
      .map((d) => d.channel)
      .sort();
    expect(sent).toEqual(['duty-mail', 'shed-group']);
    const text = await metrics.registry.metrics();
    expect(text).toContain('farm_notification_attempts_total{channel="shed-group",outcome="sent"} 1');
    expect(text).toContain('farm_notification_attempts_total{channel="wrong-secret",outcome="failed"} 1');
  });

  it('a storm over eleven pipes goes to the WeCom group and the duty webhook as one message each, listing all eleven', async () => {
    for (let i = 1; i <= 11; i++) {
      const zone = `pipe-${String(i).padStart(2, '0')}`;
      bus.emit(
        'alert',
        alert({
          id: `fill-${zone}`,
          rule: 'pipe-fill',
          site: 'xihu-drain',
          zone,
          device: `${zone}-level`,
          severity: i === 7 ? 'critical' : 'warning',
          level: i === 7 ? 'red' : 'orange',
          value: 70 + i,
          metric: 'fill',
          message: `fill ${70 + i} %`,
        }),
      );
    }
    const [group] = await wecom.waitFor(1);
    expect(group.body.msgtype).toBe('markdown');
    const content: string = group.body.markdown.content;
    expect(content).toContain('### [Critical] Xihu district drainage: 11 alerts');
    expect(content.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(11);
    expect(content).toContain('Pipe 7');
    const [duty] = await hook.waitFor(1);
    expect(duty.body.alerts).toHaveLength(11);
    expect(duty.body.alerts[0]).toMatchObject({
      reason: 'raised',
      link: expect.stringContaining('/#/alerts?alert=fill-pipe-'),
      alert: { site: 'xihu-drain', rule: 'pipe-fill' },
    });
    // One more alert of the storm a moment later comes as the next message, not as a twelfth one at once.
    bus.emit(
      'alert',
      alert({ id: 'fill-pipe-01', rule: 'pipe-fill', site: 'xihu-drain', zone: 'pipe-01', state: 'cleared', severity: 'warning', message: 'fill 40 %' }),
    );
    const second = await wecom.waitFor(2);
    expect(second[1].body.markdown.content).toContain('cleared');
    expect(wecom.received).toHaveLength(2);
  });

  it('a robot that rate-limits (WeCom errcode 45009) is tried again after a minute, not given up', async () => {
    wecom.answer(() => ({ body: { errcode: 45009, errmsg: 'api freq out of limit' } }));
    bus.emit('alert', alert({ id: 'fill-again', rule: 'pipe-fill', site: 'xihu-drain', zone: 'pipe-02', message: 'fill 72 %' }));
    const limited = await waitFor(
      async () => (await deliveriesOf('fill-again')).find((d) => d.channel === 'drain-group' && d.outcome === 'retrying'),
      'the rate-limited delivery',
    );
    expect(limited.error).toMatch(/45009.*rate limited/);
    expect(limited.nextAttemptAt! - limited.lastAttemptAt!).toBeGreaterThanOrEqual(60_000);
    wecom.answer(() => undefined);
  });

  it('a channel test reaches the mailbox at once and the answer says it was sent', async () => {
    const before = smtp.mails.length;
    const result = await n.testChannel('duty-mail', 'ada');
    expect(result).toMatchObject({ channel: 'duty-mail', kind: 'test', outcome: 'sent', attempts: 1 });
    const mails = await smtp.waitFor(before + 1);
    expect(mails.at(-1)!.subject).toBe('farmwatch test message / farmwatch 测试消息');
    expect(mails.at(-1)!.text).toContain('ada');
  });

  it('a silenced site sends nothing, and the delivery record says which silence held it back', async () => {
    const silence = await n.addSilence({ match: { site: 'xihu-drain' }, endsAt: Date.now() + 3_600_000, reason: 'dredging pipe 4' }, 'ops');
    const hooked = hook.received.length;
    bus.emit('alert', alert({ id: 'fill-silenced', rule: 'pipe-fill', site: 'xihu-drain', zone: 'pipe-04', message: 'fill 80 %' }));
    const held = await waitFor(async () => {
      const list = await deliveriesOf('fill-silenced');
      return list.length === 2 ? list : undefined;
    }, 'silenced deliveries');
    expect(held.map((d) => [d.channel, d.outcome, d.silence]).sort()).toEqual([
      ['drain-group', 'silenced', silence.id],
      ['duty-phone', 'silenced', silence.id],
    ]);
    // A later alert of another site is the marker: it is delivered, and nothing for the silenced one came before it.
    bus.emit('alert', alert({ id: 'marker', rule: 'shed-ammonia', message: 'marker' }));
    await waitFor(async () => (await deliveriesOf('marker')).find((d) => d.channel === 'duty-mail' && d.outcome === 'sent'), 'the marker');
    expect(hook.received.length).toBe(hooked);
    expect(await n.endSilence(silence.id, 'ops')).toMatchObject({ endedBy: 'ops' });
  });
});
