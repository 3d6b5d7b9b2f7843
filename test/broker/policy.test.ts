import { describe, expect, it } from 'vitest';
import {
  authenticate,
  checkClientIdLength,
  clientIdOwner,
  mayPublish,
  mayRetain,
  maySubscribe,
  mayUseClientId,
  MAX_CLIENT_ID_LENGTH,
  type Identity,
} from '../../broker/policy.js';
import { indexFarm } from '../../core/farm-index.js';
import { hashSecret } from '../../core/secrets.js';
import { FarmConfig } from '../../core/config/schema.js';

async function farm() {
  const secretHash = await hashSecret('hashed-secret-1', { N: 1024, r: 8, p: 1 });
  return indexFarm(
    FarmConfig.parse({
      sites: [
        {
          id: 's1',
          zones: [
            {
              id: 'z1',
              kind: 'shed',
              devices: [
                { id: 'env-a', role: 'sensor', secret: 'plain-secret-a' },
                { id: 'env-b', role: 'sensor', secretHash },
                { id: 'fan-a', role: 'actuator', type: 'fan' },
                { id: 'gate-a', role: 'reader', secret: 'plain-secret-g' },
              ],
            },
          ],
        },
      ],
    }),
  );
}
const service = { username: 'svc', password: 'service-password' };
const pw = (s: string) => Buffer.from(s);

describe('MQTT access policy', () => {
  it('lets a device in with its plain or hashed secret and refuses everything else', async () => {
    const f = await farm();
    expect(await authenticate(f, service, 'env-a', pw('plain-secret-a'))).toMatchObject({ ok: true });
    expect(await authenticate(f, service, 'env-b', pw('hashed-secret-1'))).toMatchObject({ ok: true });
    expect(await authenticate(f, service, 'env-a', pw('wrong'))).toEqual({ ok: false, reason: 'bad_secret' });
    expect(await authenticate(f, service, 'env-b', pw('wrong'))).toEqual({ ok: false, reason: 'bad_secret' });
    expect(await authenticate(f, service, 'stranger', pw('x'))).toEqual({ ok: false, reason: 'unknown_device' });
    expect(await authenticate(f, service, 'fan-a', pw('anything'))).toEqual({ ok: false, reason: 'no_secret' });
    expect(await authenticate(f, service, undefined, undefined)).toEqual({ ok: false, reason: 'no_credentials' });
    expect(await authenticate(f, service, 'svc', pw('service-password'))).toMatchObject({ ok: true, identity: { kind: 'service' } });
    expect(await authenticate(f, { username: 'svc' }, 'svc', pw(''))).toMatchObject({ ok: false });
  });

  it('confines a device to its own telemetry and status topics, and an actuator also to its own state', async () => {
    const f = await farm();
    const a: Identity = { kind: 'device', device: f.device('env-a')! };
    const fan: Identity = { kind: 'device', device: f.device('fan-a')! };
    expect(mayPublish(a, 'farm', 'farm/s1/z1/env-a/telemetry')).toBe(true);
    expect(mayPublish(a, 'farm', 'farm/s1/z1/env-a/status')).toBe(true);
    expect(mayPublish(fan, 'farm', 'farm/s1/z1/fan-a/state')).toBe(true);
    expect(mayPublish(a, 'farm', 'farm/s1/z1/env-a/state')).toBe(false); // a sensor has no state (SPEC "MQTT topics")
    for (const topic of [
      'farm/s1/z1/env-b/telemetry',
      'farm/s1/z1/env-a/cmd',
      'farm/s1/z1/alert',
      'farm/s1/z2/env-a/telemetry',
      'other/s1/z1/env-a/telemetry',
      '$SYS/x',
      'farm/s1/z1/env-a/telemetry/extra',
    ])
      expect(mayPublish(a, 'farm', topic), topic).toBe(false);
  });

  it('lets a device have its status and an actuator its state retained, never a reading', async () => {
    const f = await farm();
    const a: Identity = { kind: 'device', device: f.device('env-a')! };
    const fan: Identity = { kind: 'device', device: f.device('fan-a')! };
    expect(mayRetain(a, 'farm', 'farm/s1/z1/env-a/status')).toBe(true);
    expect(mayRetain(fan, 'farm', 'farm/s1/z1/fan-a/state')).toBe(true);
    expect(mayRetain(a, 'farm', 'farm/s1/z1/env-a/telemetry')).toBe(false);
    expect(mayRetain({ kind: 'service', username: 'svc' }, 'farm', 'farm/_svc/ev/status/s1/z1/env-a')).toBe(true);
  });

  it("binds a client id to one identity: a device's own id and <id>/<suffix> are the device's, all others the service's", async () => {
    const f = await farm();
    const a: Identity = { kind: 'device', device: f.device('env-a')! };
    const svc: Identity = { kind: 'service', username: 'svc' };
    expect(clientIdOwner(f, 'env-a')).toEqual({ kind: 'device', device: 'env-a' });
    expect(clientIdOwner(f, 'env-a/second')).toEqual({ kind: 'device', device: 'env-a' });
    expect(clientIdOwner(f, 'env-a-second')).toEqual({ kind: 'service' }); // '-' may occur in device ids: no prefix rule
    expect(clientIdOwner(f, 'ingest-1')).toEqual({ kind: 'service' });
    expect(mayUseClientId(f, a, 'env-a', false)).toEqual({ ok: true });
    expect(mayUseClientId(f, a, 'env-a/backup', false)).toEqual({ ok: true });
    for (const id of ['env-b', 'env-b/x', 'ingest-1', 'rules-farm', 'env-a-x', 'mqttjs_1234'])
      expect(mayUseClientId(f, a, id, false), id).toMatchObject({ ok: false, reason: 'foreign_client_id' });
    expect(mayUseClientId(f, a, 'aedes_5f1c', true)).toEqual({ ok: true }); // the broker assigned it for an empty one
    expect(mayUseClientId(f, svc, 'ingest-1', false)).toEqual({ ok: true });
    expect(mayUseClientId(f, svc, 'env-a', false)).toMatchObject({ ok: false, reason: 'foreign_client_id' });
    expect(checkClientIdLength('x'.repeat(MAX_CLIENT_ID_LENGTH))).toEqual({ ok: true });
    expect(checkClientIdLength('x'.repeat(MAX_CLIENT_ID_LENGTH + 1))).toMatchObject({ ok: false, reason: 'client_id_too_long' });
  });

  it('lets an ear-tag reader publish only its own tags and status, and subscribe to nothing', async () => {
    const f = await farm();
    const g: Identity = { kind: 'device', device: f.device('gate-a')! };
    expect(mayPublish(g, 'farm', 'farm/s1/z1/gate-a/tags')).toBe(true);
    expect(mayPublish(g, 'farm', 'farm/s1/z1/gate-a/status')).toBe(true);
    for (const t of [
      'farm/s1/z1/gate-a/telemetry',
      'farm/s1/z1/gate-a/state',
      'farm/s1/z1/gate-a/cmd',
      'farm/s1/z1/env-a/tags',
      'farm/s1/z2/gate-a/tags',
      'farm/s1/z1/alert',
    ])
      expect(mayPublish(g, 'farm', t), t).toBe(false);
    expect(maySubscribe(g, 'farm', 'farm/s1/z1/gate-a/cmd')).toBe(false);
    // A sensor may not pass itself off as a reader.
    expect(mayPublish({ kind: 'device', device: f.device('env-a')! }, 'farm', 'farm/s1/z1/env-a/tags')).toBe(false);
    expect(mayRetain(g, 'farm', 'farm/s1/z1/gate-a/tags')).toBe(false); // reads are never retained
  });

  it('lets a device subscribe only to its own cmd topic', async () => {
    const f = await farm();
    const fan: Identity = { kind: 'device', device: f.device('fan-a')! };
    expect(maySubscribe(fan, 'farm', 'farm/s1/z1/fan-a/cmd')).toBe(true);
    for (const filter of ['#', 'farm/#', 'farm/+/+/+/cmd', 'farm/s1/z1/env-a/cmd', 'farm/s1/z1/+/telemetry', '$SYS/#'])
      expect(maySubscribe(fan, 'farm', filter), filter).toBe(false);
    expect(maySubscribe({ kind: 'service', username: 'svc' }, 'farm', 'farm/#')).toBe(true);
  });
});
