import { describe, expect, it } from 'vitest';
import { ConfigError, loadFarmConfig, parseFarmConfig } from '../../core/config/load.js';
import { indexFarm } from '../../core/farm-index.js';

const site = (extra: string) => `sites:\n  - id: farm\n${extra}    zones:\n      - { id: shed-1, kind: shed }\n`;

describe('site time zone in the farm file', () => {
  it('defaults to UTC and keeps the canonical IANA spelling', () => {
    expect(parseFarmConfig(site('')).sites[0].timezone).toBe('UTC');
    expect(parseFarmConfig(site('    timezone: asia/shanghai\n')).sites[0].timezone).toBe('Asia/Shanghai');
  });

  it('refuses a name that is not a zone, naming the path and what to write instead', () => {
    const err = (() => {
      try {
        parseFarmConfig(site('    timezone: Beijing\n'), 'farm.yaml');
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      { path: 'sites[0].timezone', message: '"Beijing" is not an IANA time zone: use a name like Asia/Shanghai, Europe/Berlin or UTC' },
    ]);
  });

  it('runs every site of the demo farm in Asia/Shanghai', () => {
    const demo = loadFarmConfig('config/demo-farm.yaml');
    expect(demo.sites.map((s) => s.timezone)).toEqual(demo.sites.map(() => 'Asia/Shanghai'));
    expect(indexFarm(demo).timeZone('xihu-drain')).toBe('Asia/Shanghai');
  });
});
