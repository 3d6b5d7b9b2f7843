import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../cluster/errors.js';
import { mosquittoAcl, mosquittoPasswordEntry, mosquittoPasswords, upsertPasswordEntry } from '../../cluster/mosquitto.js';
import { coverage, overlapWith, ownedSites, ownerOf, partitionConfig } from '../../cluster/partition.js';
import { eventFilters, eventTopic, parseEventTopic } from '../../cluster/service-topics.js';
import { parseFarmConfig } from '../../core/config/load.js';

const config = parseFarmConfig(`
sites:
  - id: farm-a
    zones:
      - id: shed-1
        kind: shed
        devices:
          - { id: env-1, role: sensor, secret: "dev-only-env-1" }
          - { id: fan-1, role: actuator, type: fan, secretHash: "scrypt$16384$8$1$c2FsdA==$aGFzaA==" }
  - id: drain-b
    zones:
      - id: pipe-1
        kind: drain
        devices:
          - { id: pipe-1-level, role: sensor, secret: "dev-only-pipe-1" }
`);

describe('rules partitioning by site', () => {
  it('RULES_SITES unset means every site; unknown sites are refused with the list of real ones', () => {
    expect(ownedSites(config, undefined)).toEqual(['farm-a', 'drain-b']);
    expect(ownedSites(config, ['drain-b'])).toEqual(['drain-b']);
    expect(() => ownedSites(config, ['farm-z'])).toThrow(/farm-z.*its sites: farm-a, drain-b/);
    expect(() => ownedSites(config, ['farm-z'])).toThrow(ClusterError);
  });

  it('a partition keeps only its sites, with users and rules unchanged', () => {
    const part = partitionConfig(config, ['drain-b']);
    expect(part.sites.map((s) => s.id)).toEqual(['drain-b']);
    expect(part.rules).toBe(config.rules);
  });

  it('reports unowned sites and sites claimed twice, and finds the overlap a new process would cause', () => {
    const a = { instance: 'r1', sites: ['farm-a'], startedAt: 1 };
    const b = { instance: 'r2', sites: ['farm-a', 'drain-b'], startedAt: 2 };
    expect(coverage(['farm-a', 'drain-b'], [a])).toMatchObject({ unowned: ['drain-b'], conflicts: [] });
    expect(coverage(['farm-a', 'drain-b'], [a, b]).conflicts).toEqual([{ site: 'farm-a', instances: ['r1', 'r2'] }]);
    expect(overlapWith(b, [a])).toEqual([{ site: 'farm-a', instance: 'r1' }]);
    expect(overlapWith(a, [a])).toEqual([]); // itself, restarted under the same INSTANCE_ID
    expect(ownerOf('farm-a', [b, a])?.instance).toBe('r1'); // the earlier one while a conflict lasts
    expect(ownerOf('drain-b', [a])).toBeUndefined();
  });
});

describe('service topics', () => {
  it('carry the site so rules processes subscribe to their sites only, and never look like device topics', () => {
    const t = eventTopic('farm', 'reading', { site: 'farm-a', zone: 'shed-1', device: 'env-1' });
    expect(t).toBe('farm/_svc/ev/reading/farm-a/shed-1/env-1');
    expect(parseEventTopic('farm', t)).toBe('reading');
    expect(parseEventTopic('farm', 'farm/farm-a/shed-1/env-1/telemetry')).toBeUndefined();
    expect(eventFilters('farm', 'reading', ['drain-b'])).toEqual(['farm/_svc/ev/reading/drain-b/#']);
    expect(eventTopic('farm', 'reject', {})).toBe('farm/_svc/ev/reject/_/_/_');
  });
});

describe('Mosquitto files from the farm file', () => {
  const input = { config, topicRoot: 'farm', service: { username: 'farm-service', password: 'svc-pass' }, source: 'test.yaml' };

  it('writes Mosquitto 2 $7$ entries for the service user and every device with a plain secret, and lists the others', () => {
    const { text, skipped } = mosquittoPasswords(input);
    const users = text
      .trim()
      .split('\n')
      .map((l) => l.split(':')[0]);
    expect(users).toEqual(['farm-service', 'env-1', 'pipe-1-level']);
    expect(skipped).toEqual(['fan-1']);
    expect(text).toMatch(/^env-1:\$7\$101\$[A-Za-z0-9+/=]{16}\$[A-Za-z0-9+/=]{88}$/m);
    expect(text).not.toContain('dev-only-env-1');
  });

  it('matches the hash mosquitto_passwd makes for a known salt (PBKDF2-SHA512, 101 rounds)', () => {
    // From `mosquitto_passwd -b pw alice secret1` (Mosquitto 2.0.11); salt and hash copied from its output.
    const salt = Buffer.from('/7BucxnFEzqPn7mC', 'base64');
    expect(mosquittoPasswordEntry('alice', 'secret1', salt)).toBe(
      'alice:$7$101$/7BucxnFEzqPn7mC$C/77tLdBN8mC10DQwj/Sw5hz3Or3c6OD17n/GIUeg8rkfEERVQFRzQdFKHx6WLLJtgHc6e0lBkfWzirFOesxHw==',
    );
  });

  it('confines each device to its own topics and gives the service user everything', () => {
    const acl = mosquittoAcl(input);
    const block = (user: string) => acl.split('\n\n').find((b) => b.includes(`user ${user}\n`))!;
    expect(block('env-1').split('\n').slice(-4)).toEqual([
      'user env-1',
      'topic write farm/farm-a/shed-1/env-1/telemetry',
      'topic write farm/farm-a/shed-1/env-1/status',
      'topic read farm/farm-a/shed-1/env-1/cmd',
    ]);
    expect(block('fan-1')).toContain('topic write farm/farm-a/shed-1/fan-1/state'); // only actuators have a state
    expect(block('farm-service')).toContain('topic readwrite #');
    expect(acl).not.toMatch(/pattern/); // no %u patterns: they would let a device publish into another zone
  });

  it('replaces a device line in a password file or appends it', () => {
    expect(upsertPasswordEntry('a:1\nb:2\n', 'b:3')).toBe('a:1\nb:3\n');
    expect(upsertPasswordEntry('a:1\n', 'c:9')).toBe('a:1\nc:9\n');
  });
});
