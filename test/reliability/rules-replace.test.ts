import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, endClient } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/ports.js';
import { servicePorts, spawnService } from '../helpers/process.js';
import { SHED1_ENV, startTestService } from '../helpers/service.js';
import { login, type AlertView, type Api } from './api.js';

/**
 * An invalid rule set is refused with the path of what is wrong, whether it comes in the farm file at start or
 * over PUT /api/rules at run time; at run time the rules in force stay in force and keep acting.
 */
let svc: Awaited<ReturnType<typeof startTestService>>;
let admin: Api;
const dir = mkdtempSync(join(tmpdir(), 'farm-rules-bad-'));
beforeAll(async () => {
  svc = await startTestService();
  admin = await login(svc.httpPort, 'admin', 'dev-only-admin');
});
afterAll(async () => {
  await svc?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

type ErrorBody = { error: string; message: string; problems?: { path: string; message: string }[] };

describe('invalid rules', () => {
  it('are refused at run time with the path of the problem, and the running rules keep working', async () => {
    const before = (await admin.get<{ rules: { id: string }[] }>('/api/rules')).rules;
    expect(before.length).toBeGreaterThan(5);
    const good = before as Record<string, unknown>[];
    const cases: [string, unknown, RegExp][] = [
      ['a threshold that is not a number', [{ ...good[0], when: { metric: 'nh3', above: 'high' } }, ...good.slice(1)], /^body\[0\]\.when/],
      ['an unknown metric', [...good.slice(0, 2), { ...good[2], when: { metric: 'plutonium', above: 1 } }, ...good.slice(3)], /^body\[2\]\.when/],
      ['two rules with one id', [...good, { ...good[1] }], /^body/],
      ['not a list', { rules: good }, /^body/],
    ];
    for (const [what, body, path] of cases) {
      const res = await admin.send<ErrorBody>('PUT', '/api/rules', body);
      expect(res.status, what).toBe(400);
      expect(res.body.error, what).toMatch(/RULES_INVALID|VALIDATION/);
      expect(res.body.problems?.[0]?.path, what).toMatch(path);
      expect(res.body.message, `${what}: says what to do`).toMatch(/\S/);
    }
    const raw = await fetch(`http://127.0.0.1:${svc.httpPort}/api/rules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...admin.auth },
      body: '[{"id": "broken", ',
    });
    expect(raw.status).toBe(400);

    expect((await admin.get<{ rules: unknown[] }>('/api/rules')).rules).toEqual(before);
    // The rules in force still act: H2S above 10 raises shed-h2s at once (it has no sustain time).
    const device = await connectDevice(svc.mqttPort, SHED1_ENV.id, SHED1_ENV.secret);
    await device.publishAsync(SHED1_ENV.topic, JSON.stringify({ metrics: { h2s: 15 } }), { qos: 1 });
    await endClient(device);
    const alert = await waitFor(
      async () => (await admin.get<{ alerts: AlertView[] }>('/api/alerts?state=active')).alerts.find((a) => a.rule === 'shed-h2s' && a.zone === 'shed-1'),
      'the shed-h2s alert',
    );
    expect(alert.state).toBe('raised');
  });

  it('in the farm file stop start-up with the file, the path in it and the reason', async () => {
    const demo = parse(readFileSync('config/demo-farm.yaml', 'utf8')) as { rules: Record<string, unknown>[]; animals: object };
    const file = join(dir, 'farm.yaml');
    writeFileSync(
      file,
      stringify({
        ...demo,
        animals: { ...demo.animals, registerFile: resolve('config/demo-animals.csv') },
        rules: [{ ...demo.rules[0], when: { metric: 'nh3', above: 'high' } }, ...demo.rules.slice(1)],
      }),
    );
    const proc = spawnService({ ...(await servicePorts()), DATA_DIR: join(dir, 'data'), FARM_CONFIG: file });
    expect((await proc.exited).code).toBe(2);
    expect(proc.output()).toContain(`${file} is invalid`);
    expect(proc.output()).toMatch(/rules\[0\]\.when/);
  });
});
