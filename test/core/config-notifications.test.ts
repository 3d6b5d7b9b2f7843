import { describe, expect, it } from 'vitest';
import { ConfigError, parseFarmConfig } from '../../core/config/load.js';
import { localText } from '../../core/local-text.js';

/** The farm file's names in two languages, the site language, `channels` and `notifications` (SPEC "Configuration file"). */
const farm = (extra: string, siteExtra = '') => `
sites:
  - id: huyang
    name: { en: Huyang lake-sheep farm, zh: 湖羊养殖场 }
${siteExtra}
    zones:
      - id: shed-1
        name: { en: Shed 1, zh: 1号羊舍 }
        kind: shed
        devices:
          - { id: shed-1-env, name: Climate, role: sensor, secret: "dev-only-secret" }
${extra}
`;

function problems(text: string): string[] {
  try {
    parseFarmConfig(text, 'farm.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('farm file: names, language, channels and notifications', () => {
  it('takes names as plain text or in both languages, and a site language that defaults to en', () => {
    const cfg = parseFarmConfig(farm(''));
    const site = cfg.sites[0];
    expect(site.language).toBe('en');
    expect(localText(site.name, 'zh-CN')).toBe('湖羊养殖场');
    expect(localText(site.zones[0].name, 'en')).toBe('Shed 1');
    expect(localText(site.zones[0].devices[0].name, 'zh-CN')).toBe('Climate');
    expect(parseFarmConfig(farm('', '    language: zh-CN')).sites[0].language).toBe('zh-CN');
  });

  it('says what is wrong with a name that has only one language, or an unknown language', () => {
    expect(problems(farm('').replace('{ en: Shed 1, zh: 1号羊舍 }', '{ en: Shed 1 }')).join('\n')).toMatch(/sites\[0\]\.zones\[0\]\.name: .*both languages/);
    expect(problems(farm('', '    language: fr')).join('\n')).toMatch(/sites\[0\]\.language: language is en or zh-CN/);
  });

  it('reads channels and routes, with durations, one-or-many matches and escalation', () => {
    const cfg = parseFarmConfig(
      farm(`channels:
  - { id: duty-phone, type: webhook, url: "https://example.org/hook" }
  - { id: shed-group, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=x", secret: "SECdev" }
  - { id: drain-group, type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x" }
  - { id: duty-mail, type: email, to: ["duty@example.org"] }
notifications:
  - match: { site: huyang, severity: [warning, critical] }
    channels: [shed-group]
    repeat: 30m
    escalate: { after: 15m, channels: [duty-phone, duty-mail] }
  - channels: [drain-group]`),
    );
    expect(cfg.channels.map((c) => c.type)).toEqual(['webhook', 'dingtalk', 'wecom', 'email']);
    expect(cfg.notifications[0]).toEqual({
      match: { site: ['huyang'], severity: ['warning', 'critical'] },
      channels: ['shed-group'],
      repeat: 1_800_000,
      escalate: { after: 900_000, channels: ['duty-phone', 'duty-mail'] },
    });
    expect(cfg.notifications[1].match).toEqual({});
  });

  it('names the route and the missing channel, site or zone, and a channel without a usable type or address', () => {
    const found = problems(
      farm(`channels:
  - { id: a, type: webhook, url: "ftp://example.org" }
  - { id: b, type: sms, to: "+86" }
  - { id: c, type: email, to: ["not-an-address"] }
notifications:
  - match: { site: atlantis, zone: shed-9 }
    channels: [nowhere]
    escalate: { after: 0s, channels: [a] }`),
    ).join('\n');
    expect(found).toMatch(/channels\[0\]\.url: expected an http/);
    expect(found).toMatch(/channels\[1\]\.type: a channel has a type: webhook, dingtalk, wecom or email/);
    expect(found).toMatch(/channels\[2\]\.to\[0\]: expected an e-mail address/);
    expect(found).toMatch(/notifications\[0\]\.escalate\.after: must be longer than 0/);
  });

  it('refuses routes to channels, sites or zones the file does not have', () => {
    const found = problems(
      farm(`channels:
  - { id: a, type: webhook, url: "https://example.org/a" }
  - { id: a, type: webhook, url: "https://example.org/b" }
notifications:
  - match: { site: atlantis, zone: shed-9 }
    channels: [nowhere]
    escalate: { after: 5m, channels: [a, gone] }`),
    ).join('\n');
    expect(found).toMatch(/channels\[1\]\.id: duplicate channel id "a"/);
    expect(found).toMatch(/notifications\[0\]\.channels\[0\]: no channel "nowhere" under channels: \(defined: a\)/);
    expect(found).toMatch(/notifications\[0\]\.escalate\.channels\[1\]: no channel "gone"/);
    expect(found).toMatch(/notifications\[0\]\.match\.site\[0\]: no site "atlantis"/);
    expect(found).toMatch(/notifications\[0\]\.match\.zone\[0\]: no zone "shed-9"/);
  });

  it('takes a rule alert message in both languages', () => {
    const cfg = parseFarmConfig(
      farm(`rules:
  - id: ammonia
    when: { metric: nh3, above: 20 }
    actions: [{ alert: { severity: warning, message: { en: "Ammonia {value} ppm", zh: "氨气 {value} ppm" } } }]`),
    );
    const action = cfg.rules[0].actions[0];
    expect('alert' in action && action.alert.message).toEqual({ en: 'Ammonia {value} ppm', zh: '氨气 {value} ppm' });
  });
});

describe('environment for notifications', () => {
  it('an email channel without SMTP_URL stops start-up saying what to set; PUBLIC_URL must be an http(s) address', async () => {
    const { notificationsOptions } = await import('../../app/options.js');
    const { loadEnvSettings } = await import('../../core/config/load.js');
    const cfg = parseFarmConfig(farm(`channels:\n  - { id: duty-mail, type: email, to: ["duty@example.org"] }`));
    expect(() => notificationsOptions(loadEnvSettings({}), cfg)).toThrow(/SMTP_URL: the email channel duty-mail needs a mail server: set SMTP_URL/);
    expect(notificationsOptions(loadEnvSettings({ SMTP_URL: 'smtp://u:p@mail.example.org:587', PUBLIC_URL: 'https://farm.example.org' }), cfg)).toMatchObject({
      smtpUrl: 'smtp://u:p@mail.example.org:587',
      publicUrl: 'https://farm.example.org',
      group: { waitMs: 10_000, intervalMs: 60_000 },
    });
    expect(() => loadEnvSettings({ PUBLIC_URL: 'farm.example.org' })).toThrow(/PUBLIC_URL/);
    // The message names the value given (its user and password left out) and what it takes.
    expect(() => loadEnvSettings({ SMTP_URL: 'http://mail.example.org' })).toThrow(/SMTP_URL="http:\/\/mail\.example\.org": expected smtp:/);
    expect(() => loadEnvSettings({ SMTP_URL: 'http://u:secret@mail.example.org' })).toThrow(/SMTP_URL="http:\/\/…@mail\.example\.org": expected smtp:/);
  });
});
