import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFarmConfig } from '../../core/config/load.js';
import { parseProvisionArgs, ProvisionError, type ProvisionRequest } from '../../app/provision/args.js';
import { planProvision } from '../../app/provision/plan.js';

/**
 * `npm run provision` changes only what it adds: every other byte of the farm file (comments, blank lines,
 * `[a, b]` flow sequences, quoting) stays as the user wrote it. Pure: the plan of the change, no disk, no hashing.
 */
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';
const DEMO = readFileSync('config/demo-farm.yaml', 'utf8');

/** Hand-written: flow sequences without spaces, comments everywhere, a blank line, block and flow devices. */
const HAND = `# Hill farm, written by hand: this comment stays
sites:
  - id: hill   # the hill site
    name: Hill farm
    timezone: Asia/Shanghai
    zones:
      - id: shed-a
        kind: shed
        attributes: {headCount: 20}
        devices: [{id: shed-a-env, role: sensor, secret: "dev-only-secret-a", metrics: [temperature,humidity]}]   # flow!

      # the field comes next
      - id: field-1
        kind: field
        devices:
          - id: field-1-soil
            role: sensor
            secret: dev-only-soil-secret   # rotate me
            metrics: [soil_moisture,rain_mm]
      - {id: drain-1, kind: drain}
users: [ {name: admin, role: admin, password: "dev-only-password"} ]   # one admin
rules:
  - id: hot
    scope: {kind: shed}
    when: {metric: temperature, above: 30}
    actions: [ {alert: {severity: warning, message: "Hot {value}"}} ]
# end of file
`;

function plan(text: string, argv: string[]) {
  const req = parseProvisionArgs(['--config', 'farm.yaml', ...argv]) as ProvisionRequest;
  return planProvision(text, req, HASH, 'farm.yaml', resolve('config'));
}

/** The original's bytes, in order, all there: the new text is the old one with one block inserted somewhere. */
function onlyAdded(before: string, after: string): void {
  let p = 0;
  while (p < before.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && before[before.length - 1 - s] === after[after.length - 1 - s]) s++;
  expect(before.slice(p, before.length - s), 'bytes of the original that changed').toBe('');
}

/** The new text is exactly the old one with `block` inserted at one place. */
function expectInsertion(before: string, after: string, block: string): void {
  const at = after.indexOf(block);
  expect(at, `${JSON.stringify(block)} in the new text`).toBeGreaterThanOrEqual(0);
  expect(after.slice(0, at) + after.slice(at + block.length)).toBe(before);
}

/** Lines that differ, when the line count stayed the same (a replaced pair). */
function changedLines(before: string, after: string): { before: string; after: string }[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [{ before: line, after: b[i] }]));
}

describe('provision keeps the farm file byte for byte outside what it adds', () => {
  it('a new device in an existing zone of the demo farm: one line, in the style of its neighbours', () => {
    const p = plan(DEMO, ['--site', 'huyang', '--zone', 'shed-2', '--id', 'shed-2-env2', '--role', 'sensor', '--metrics', 'temperature,nh3']);
    expectInsertion(DEMO, p.text, `\n          - { id: shed-2-env2, role: sensor, metrics: [temperature, nh3], secretHash: "${HASH}" }`);
    expect(p.config.sites[0].zones[1].devices.at(-1)).toMatchObject({ id: 'shed-2-env2', secretHash: HASH });
  });

  it('a new zone gets a name (from its id, or --zone-name) and is written as block lines', () => {
    const p = plan(DEMO, ['--site', 'huyang', '--zone', 'shed-5', '--kind', 'shed', '--id', 'shed-5-env', '--role', 'sensor']);
    expectInsertion(
      DEMO,
      p.text,
      `\n      - id: shed-5\n        name: Shed 5\n        kind: shed\n        devices:\n          - { id: shed-5-env, role: sensor, secretHash: "${HASH}" }`,
    );
    const named = plan(DEMO, [
      '--site',
      'huyang',
      '--zone',
      'shed-5',
      '--kind',
      'shed',
      '--zone-name',
      'Lambing shed: east',
      '--id',
      'shed-5-env',
      '--role',
      'sensor',
    ]);
    expect(named.config.sites[0].zones.find((z) => z.id === 'shed-5')!.name).toBe('Lambing shed: east');
  });

  it("a new site takes the first site's time zone unless --timezone says otherwise", () => {
    const p = plan(DEMO, ['--site', 'hill', '--zone', 'f1', '--kind', 'field', '--id', 'f1-valve', '--role', 'actuator', '--type', 'valve']);
    onlyAdded(DEMO, p.text);
    expect(p.config.sites.at(-1)).toMatchObject({
      id: 'hill',
      name: 'Hill',
      timezone: 'Asia/Shanghai',
      zones: [{ id: 'f1', name: 'F1', kind: 'field', devices: [{ id: 'f1-valve', type: 'valve' }] }],
    });
    const utc = plan(DEMO, [
      '--site',
      'hill',
      '--zone',
      'f1',
      '--kind',
      'field',
      '--id',
      'f1-valve',
      '--role',
      'actuator',
      '--type',
      'valve',
      '--timezone',
      'utc',
    ]);
    expect(utc.config.sites.at(-1)!.timezone).toBe('UTC');
  });

  it("--rotate with only --id changes that device's secret and nothing else", () => {
    const p = plan(DEMO, ['--id', 'shed-1-env', '--rotate']);
    expect(changedLines(DEMO, p.text)).toEqual([
      {
        before: '          - { id: shed-1-env, role: sensor, secret: "dev-only-shed-1-env", metrics: [temperature, humidity, nh3, h2s, co2, light] }',
        after: `          - { id: shed-1-env, role: sensor, secretHash: "${HASH}", metrics: [temperature, humidity, nh3, h2s, co2, light] }`,
      },
    ]);
    expect(p.what).toContain('huyang/shed-1');
  });

  it('a hand-written file with flow sequences and comments: a device into a flow sequence, a block sequence, a zone without devices', () => {
    const flow = plan(HAND, ['--site', 'hill', '--zone', 'shed-a', '--id', 'shed-a-fan', '--role', 'actuator', '--type', 'fan']);
    expectInsertion(HAND, flow.text, `, { id: shed-a-fan, role: actuator, type: fan, secretHash: "${HASH}" }`);
    expect(flow.text).toContain('metrics: [temperature,humidity]}, { id: shed-a-fan');

    const block = plan(HAND, ['--site', 'hill', '--zone', 'field-1', '--id', 'field-1-valve', '--role', 'actuator', '--type', 'valve']);
    expectInsertion(
      HAND,
      block.text,
      `\n          - id: field-1-valve\n            role: actuator\n            type: valve\n            secretHash: "${HASH}"`,
    );

    const bare = plan(HAND, ['--site', 'hill', '--zone', 'drain-1', '--id', 'pipe-1-level', '--role', 'sensor', '--metrics', 'fill']);
    expectInsertion(HAND, bare.text, `, devices: [{ id: pipe-1-level, role: sensor, metrics: [fill], secretHash: "${HASH}" }]`);
    expect(bare.config.sites[0].zones[2].devices).toHaveLength(1);
  });

  it('a hand-written file: rotating a block-written device and a user replaces one pair, comments stay', () => {
    const device = plan(HAND, ['--id', 'field-1-soil', '--rotate']);
    expect(changedLines(HAND, device.text)).toEqual([
      { before: '            secret: dev-only-soil-secret   # rotate me', after: `            secretHash: "${HASH}"   # rotate me` },
    ]);
    const user = plan(HAND, ['--user', 'admin', '--rotate']);
    expect(changedLines(HAND, user.text)).toEqual([
      {
        before: 'users: [ {name: admin, role: admin, password: "dev-only-password"} ]   # one admin',
        after: `users: [ {name: admin, role: admin, passwordHash: "${HASH}"} ]   # one admin`,
      },
    ]);
  });

  it('a new user goes into the users list in its style, or a new users list at the end', () => {
    const flow = plan(HAND, ['--user', 'otto', '--role', 'viewer']);
    expectInsertion(HAND, flow.text, `, { name: otto, role: viewer, passwordHash: "${HASH}" }`);
    const none = HAND.replace(/^users:.*\n/m, '');
    const added = plan(none, ['--user', 'otto', '--role', 'viewer']);
    expectInsertion(none, added.text, `users:\n  - { name: otto, role: viewer, passwordHash: "${HASH}" }\n`);
    expect(parseFarmConfig(added.text).users).toEqual([{ name: 'otto', role: 'viewer', passwordHash: HASH }]);
  });
});

describe('provision refuses with the real cause', () => {
  const refusal = (text: string, argv: string[]) => {
    try {
      plan(text, argv);
    } catch (err) {
      if (err instanceof ProvisionError) return { code: err.code, message: err.message };
      throw err;
    }
    throw new Error('no refusal');
  };

  it('a wrong zone on --rotate says where the device is', () => {
    expect(refusal(DEMO, ['--id', 'shed-1-env', '--rotate', '--site', 'huyang', '--zone', 'shed-9'])).toEqual({
      code: 'WRONG_PLACE',
      message: 'device shed-1-env is in huyang/shed-1, not in huyang/shed-9: --rotate needs only --id, so leave out --site and --zone (or correct them)',
    });
  });

  it('adding a device whose id exists elsewhere points to --rotate, not to a duplicate in the result', () => {
    expect(refusal(DEMO, ['--site', 'huyang', '--zone', 'shed-2', '--id', 'shed-1-env', '--role', 'sensor'])).toMatchObject({
      code: 'EXISTS',
      message: expect.stringContaining('exists already in huyang/shed-1: to give it a new secret run with --id shed-1-env --rotate'),
    });
  });

  it('an unknown zone or site names the ones there are and how to create one', () => {
    expect(refusal(DEMO, ['--site', 'huyang', '--zone', 'shed-9', '--id', 'x', '--role', 'sensor']).message).toBe(
      'zone shed-9 is not in site huyang (zones: shed-1, shed-2, shed-3, shed-4): check --zone, or add --kind shed|field|drain to create it',
    );
    expect(refusal(DEMO, ['--site', 'hull', '--zone', 'shed-9', '--id', 'x', '--role', 'sensor']).message).toContain(
      'site hull is not in farm.yaml (sites: huyang, tianmu, xihu-drain)',
    );
  });

  it("an invalid file is reported as the file's problem, not the options'", () => {
    const broken = DEMO.replace('kind: shed', 'kind: barn');
    expect(refusal(broken, ['--id', 'shed-1-env', '--rotate'])).toMatchObject({
      code: 'FILE_INVALID',
      message: expect.stringMatching(/farm\.yaml is invalid as it is, so nothing was written:\n {2}- sites\[0\]\.zones\[0\]\.kind: .*\nFix the file first/),
    });
  });

  it('bad options are named before the file is read', () => {
    const bad = (argv: string[]) => {
      try {
        parseProvisionArgs(['--config', 'f.yaml', ...argv]);
      } catch (err) {
        return (err as ProvisionError).message;
      }
      return 'accepted';
    };
    expect(bad(['--id', 'x', '--site', 's', '--zone', 'z', '--role', 'sensr'])).toBe('--role sensr: expected one of sensor, actuator, reader');
    expect(bad(['--id', 'x', '--site', 's', '--zone', 'z', '--role', 'actuator'])).toBe('--role actuator needs --type fan|spray|shutter|pump|valve');
    expect(bad(['--id', 'x', '--site', 's', '--zone', 'z', '--role', 'sensor', '--metrics', 'temp'])).toMatch(
      /^--metrics temp: unknown temp; the metrics are temperature, /,
    );
    expect(bad(['--id', 'X Y', '--rotate'])).toMatch(/^--id X Y: ids are lower-case/);
    expect(bad(['--id', 'x', '--rotate', '--metrics', 'nh3'])).toBe(
      '--rotate gives x a new secret and changes nothing else: leave out --metrics (edit the file to change it)',
    );
    expect(bad(['--sit', 'huyang'])).toMatch(/Unknown option '--sit'/);
    expect(bad(['--id', 'x', '--rotate'])).toBe('accepted');
    expect(bad(['--user', 'otto', '--rotate'])).toBe('accepted');
  });
});
