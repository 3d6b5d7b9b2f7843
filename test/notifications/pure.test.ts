import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../core/domain.js';
import { dingTalkSignedUrl } from '../../notifications/channels/dingtalk.js';
import { smtpOutcome } from '../../notifications/channels/email.js';
import { robotOutcome } from '../../notifications/channels/robot.js';
import { DEFAULT_GROUP_TIMING, groupSendTime } from '../../notifications/grouping.js';
import { composeMessage, type MessageContext } from '../../notifications/message.js';
import { fullBucket, takeToken } from '../../notifications/rate-limit.js';
import { afterAttempt, DEFAULT_RETRY } from '../../notifications/retry.js';
import { silenceFor, type Silence } from '../../notifications/silences.js';

const T0 = Date.parse('2026-11-30T18:03:05Z'); // 02:03:05 next day in Shanghai

describe("grouping a site's alerts per channel", () => {
  it('the first message waits 10 s for companions; the next goes no sooner than a minute after the previous', () => {
    expect(groupSendTime(undefined, T0, DEFAULT_GROUP_TIMING)).toBe(T0 + 10_000);
    expect(groupSendTime(T0, T0 + 5_000, DEFAULT_GROUP_TIMING)).toBe(T0 + 60_000);
    expect(groupSendTime(T0, T0 + 3_600_000, DEFAULT_GROUP_TIMING)).toBe(T0 + 3_610_000);
  });
});

describe('retries', () => {
  it('back off 5 s, 10 s, 20 s ... up to 5 min, honour a longer wait the channel asks for, and give up after 10 attempts', () => {
    expect(afterAttempt({ kind: 'retry', error: 'x' }, 1, T0, DEFAULT_RETRY)).toEqual({ status: 'retrying', nextAttemptAt: T0 + 5_000, error: 'x' });
    expect(afterAttempt({ kind: 'retry', error: 'x' }, 3, T0, DEFAULT_RETRY)).toMatchObject({ nextAttemptAt: T0 + 20_000 });
    expect(afterAttempt({ kind: 'retry', error: 'x' }, 9, T0, DEFAULT_RETRY)).toMatchObject({ nextAttemptAt: T0 + 300_000 });
    expect(afterAttempt({ kind: 'retry', error: 'x', afterMs: 60_000 }, 1, T0, DEFAULT_RETRY)).toMatchObject({ nextAttemptAt: T0 + 60_000 });
    expect(afterAttempt({ kind: 'retry', error: 'x' }, 10, T0, DEFAULT_RETRY)).toEqual({ status: 'failed', error: 'gave up after 10 attempts: x' });
    expect(afterAttempt({ kind: 'failed', error: 'bad key' }, 1, T0, DEFAULT_RETRY)).toEqual({ status: 'failed', error: 'bad key' });
  });
});

describe('rate limit per channel', () => {
  it('20 a minute: a burst of 4, then one every 3 s', () => {
    let b = fullBucket(20, T0);
    for (let i = 0; i < 4; i++) {
      const r = takeToken(b, 20, T0);
      expect(r.ok).toBe(true);
      b = r.bucket;
    }
    const refused = takeToken(b, 20, T0);
    expect(refused).toMatchObject({ ok: false, waitMs: 3000 });
    expect(takeToken(refused.bucket, 20, T0 + 3000).ok).toBe(true);
  });
});

describe('silences', () => {
  const s = (over: Partial<Silence>): Silence => ({
    id: 's',
    match: { site: 'xihu-drain' },
    reason: 'dredging',
    startsAt: T0,
    endsAt: T0 + 3_600_000,
    createdBy: 'ops',
    createdAt: T0,
    ...over,
  });
  const pipe = { site: 'xihu-drain', zone: 'pipe-03', device: 'pipe-03-level', rule: 'pipe-fill' };
  it('match every field they name, only while active, and not after being ended', () => {
    expect(silenceFor(pipe, [s({})], T0 + 1)?.id).toBe('s');
    expect(silenceFor(pipe, [s({ match: { zone: 'pipe-04' } })], T0 + 1)).toBeUndefined();
    expect(silenceFor(pipe, [s({ match: { site: 'xihu-drain', rule: 'pipe-fill' } })], T0 + 1)).toBeDefined();
    expect(silenceFor(pipe, [s({})], T0 + 3_600_000)).toBeUndefined();
    expect(silenceFor(pipe, [s({ endedAt: T0 + 10 })], T0 + 11)).toBeUndefined();
    expect(silenceFor(pipe, [s({ startsAt: T0 + 100 })], T0 + 1)).toBeUndefined();
  });
});

describe('DingTalk signed mode', () => {
  it('adds timestamp and the URL-encoded base64 HMAC-SHA256 of "timestamp\\nsecret" keyed with the secret', () => {
    const url = new URL(dingTalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', 'SECdev', 1700000000000));
    const expected = createHmac('sha256', 'SECdev').update('1700000000000\nSECdev').digest('base64');
    expect(url.searchParams.get('access_token')).toBe('abc');
    expect(url.searchParams.get('timestamp')).toBe('1700000000000');
    expect(url.searchParams.get('sign')).toBe(expected);
    expect(url.search).toContain(`sign=${encodeURIComponent(expected)}`);
  });
});

describe("what a channel's answer means", () => {
  const dt = { service: 'DingTalk' as const, rateLimited: [130101], busy: [-1], hint: 'check the secret' };
  it('robots: errcode 0 is sent, a rate-limit errcode is retried after a minute, any other errcode is a failure that says what to check', () => {
    expect(robotOutcome({ ok: true, status: 200, body: '{"errcode":0,"errmsg":"ok"}' }, dt)).toEqual({ kind: 'sent' });
    expect(robotOutcome({ ok: true, status: 200, body: '{"errcode":130101,"errmsg":"send too fast"}' }, dt)).toMatchObject({ kind: 'retry', afterMs: 60_000 });
    expect(robotOutcome({ ok: true, status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' }, dt)).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/310000.*sign not match.*check the secret/),
    });
    expect(robotOutcome({ ok: true, status: 200, body: '<html>proxy</html>' }, dt)).toMatchObject({ kind: 'retry' });
  });
  it('SMTP: 4xx is retried, 5xx and a refused login are failures', () => {
    expect(smtpOutcome(Object.assign(new Error('x'), { responseCode: 451, response: '451 try later' }))).toMatchObject({ kind: 'retry' });
    expect(smtpOutcome(Object.assign(new Error('x'), { responseCode: 550, response: '550 no such user' }))).toMatchObject({
      kind: 'failed',
      error: expect.stringMatching(/550/),
    });
    expect(smtpOutcome(Object.assign(new Error('x'), { code: 'EAUTH' }))).toMatchObject({ kind: 'failed', error: expect.stringMatching(/SMTP_URL/) });
    expect(smtpOutcome(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toMatchObject({ kind: 'retry' });
  });
});

describe('message text', () => {
  const alert: AlertEvent = {
    id: 'pipe-fill:xihu-drain:pipe-03:pipe-03-level:1',
    rule: 'pipe-fill',
    site: 'xihu-drain',
    zone: 'pipe-03',
    device: 'pipe-03-level',
    severity: 'critical',
    level: 'red',
    state: 'raised',
    value: 91.234,
    metric: 'fill',
    message: 'Pipe fill 91 %',
    messages: { en: 'Pipe fill 91 %', zh: '管道充满度 91 %' },
    ts: T0,
  };
  const ctx = (language: 'en' | 'zh-CN'): MessageContext => ({
    language,
    timeZone: 'Asia/Shanghai',
    publicUrl: 'https://farm.example/',
    siteName: language === 'zh-CN' ? '西湖区排水' : 'Xihu district drainage',
    zoneName: (z) => (language === 'zh-CN' ? `${z.slice(5)}号管道` : `Pipe ${z.slice(5)}`),
    deviceName: (d) => d,
  });
  it('in English: level, value with unit, site and zone names, site-local time with its zone, and a link to the alert', () => {
    const m = composeMessage([{ reason: 'raised', alert, since: T0 }], ctx('en'));
    expect(m.title).toBe('[Critical · raised] Pipe 03: Pipe fill 91 %');
    expect(m.text).toContain('Where: Xihu district drainage / Pipe 03 (pipe-03-level)');
    expect(m.text).toContain('Value: fill 91.23 % of pipe height');
    expect(m.text).toContain('Level: red');
    expect(m.text).toContain('Time: 2026-12-01 02:03:05 (Asia/Shanghai)');
    expect(m.text).toContain('https://farm.example/#/alerts?alert=pipe-fill%3Axihu-drain%3Apipe-03%3Apipe-03-level%3A1');
  });
  it("in Chinese, with the rule's Chinese message", () => {
    const m = composeMessage([{ reason: 'escalate', alert, since: T0 }], ctx('zh-CN'));
    expect(m.title).toBe('【严重·自 2026-12-01 02:03 (Asia/Shanghai) 起未确认】 03号管道：管道充满度 91 %');
    expect(m.text).toContain('位置：西湖区排水 / 03号管道');
    expect(m.text).toContain('等级：红色');
    expect(m.markdown).toContain('[在监控平台查看](https://farm.example/#/alerts?alert=');
  });
  it('names every grade and metric in Chinese, the rain classes of GB/T 28592 too (not only the four colours)', () => {
    const rain = { ...alert, level: 'heavy-rainstorm', metric: 'rain_mm', value: 120 };
    const zh = composeMessage([{ reason: 'raised', alert: rain, since: T0 }], ctx('zh-CN'));
    expect(zh.text).toContain('等级：大暴雨');
    expect(zh.text).toMatch(/数值：降雨 120 mm/);
    const en = composeMessage([{ reason: 'raised', alert: rain, since: T0 }], ctx('en'));
    expect(en.text).toContain('Level: heavy-rainstorm');
  });
  it('a storm of eleven pipes is one message listing each, worst first', () => {
    const items = Array.from({ length: 11 }, (_, i) => ({
      reason: 'raised' as const,
      since: T0,
      alert: { ...alert, id: `a${i}`, zone: `pipe-${String(i + 1).padStart(2, '0')}`, severity: i === 5 ? ('critical' as const) : ('warning' as const) },
    }));
    const m = composeMessage(items, ctx('en'));
    expect(m.title).toBe('[Critical] Xihu district drainage: 11 alerts');
    expect(m.text.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(11);
    expect(m.text.split('\n')[1]).toContain('Pipe 06');
  });
});
