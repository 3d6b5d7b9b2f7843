import { zodProblems } from '../../core/config/load.js';
import type { FarmConfigT } from '../../core/config/schema.js';
import type { AlertEvent, Command, DeviceRef } from '../../core/domain.js';
import type { FarmBus, RejectRecord } from '../../core/events.js';
import type { FarmIndex } from '../../core/farm-index.js';
import type { DevicePresence, IngestHandle, IngestStats } from '../../ingest/handle.js';
import { ActuatorError, type ActuatorView, type LocalRulesHandle } from '../../rules/handle.js';
import { Rule, Rules, type RuleT } from '../../rules/schema.js';
import type { Store } from '../../store/store.js';

/**
 * Stand-ins for the rules engine and ingest, for the HTTP and socket tests of the dashboard: they record calls
 * and make alerts, commands and acknowledgements happen on cue (a command is acknowledged by an actuatorState
 * after `ackDelayMs`). The real engine and ingest drive the page in e2e-service.test.ts and the fuzz test.
 */
export interface FakeRules extends LocalRulesHandle {
  calls: { method: string; args: unknown[] }[];
  raise(alert: Partial<AlertEvent> & Pick<AlertEvent, 'site' | 'zone'>): AlertEvent;
}

const refOf = (d: DeviceRef): DeviceRef => ({ site: d.site, zone: d.zone, kind: d.kind, device: d.device });

export function createFakeRules(deps: { bus: FarmBus; farm: FarmIndex; config: FarmConfigT; now: () => number; ackDelayMs: number }): FakeRules {
  const { bus, farm, now } = deps;
  let rules: RuleT[] = [...deps.config.rules];
  const calls: FakeRules['calls'] = [];
  const active = new Map<string, AlertEvent>();
  const actuators = new Map<string, ActuatorView>(
    farm
      .devices()
      .filter((d) => d.role === 'actuator')
      .map((d) => [d.device, { ...refOf(d), type: d.type!, mode: 'auto', holders: [] } satisfies ActuatorView]),
  );
  let seq = 0;

  function actuator(id: string): ActuatorView {
    const device = farm.device(id);
    if (!device) throw new ActuatorError('NOT_FOUND', `no device ${id}`);
    if (device.role !== 'actuator') throw new ActuatorError('NOT_ACTUATOR', `${id} is a sensor`);
    return actuators.get(id)!;
  }

  function send(view: ActuatorView, action: Command['action'], value: number | undefined, reason: string): Command {
    const command: Command = { id: `cmd-${++seq}`, action, value, reason, ts: now() };
    view.pending = command;
    bus.emit('command', { ...refOf(view), command });
    setTimeout(() => {
      view.state = action === 'off' ? 'off' : 'on';
      view.value = action === 'set' ? value : action === 'on' ? 100 : 0;
      view.stateTs = now();
      view.pending = undefined;
      bus.emit('actuatorState', { ...refOf(view), state: view.state, value: view.value, ack: command.id, ts: view.stateTs });
    }, deps.ackDelayMs);
    return command;
  }

  const handle: FakeRules = {
    calls,
    raise(partial) {
      const alert: AlertEvent = {
        id: `alert-${++seq}`,
        rule: 'test-rule',
        severity: 'warning',
        state: 'raised',
        level: null,
        value: null,
        metric: null,
        message: 'test alert',
        ts: now(),
        ...partial,
      };
      active.set(alert.id, alert);
      bus.emit('alert', alert);
      return alert;
    },
    rules: () => rules,
    replaceRules(raw) {
      calls.push({ method: 'replaceRules', args: [raw] });
      const parsed = Rules.safeParse(raw);
      if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
      const before = new Set(rules.map((r) => r.id));
      rules = parsed.data;
      const after = new Set(rules.map((r) => r.id));
      return {
        ok: true,
        rules,
        changed: [...after].filter((id) => !before.has(id)),
        kept: [...after].filter((id) => before.has(id)),
        removed: [...before].filter((id) => !after.has(id)),
      };
    },
    async dryRun(raw, from, to) {
      calls.push({ method: 'dryRun', args: [raw, from, to] });
      const parsed = Rule.safeParse(raw);
      if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
      return { ok: true, events: [{ ts: from, kind: 'fired', site: 'huyang', zone: 'shed-1', device: 'shed-1-env', value: 25 }] };
    },
    activeAlerts: () => [...active.values()],
    acknowledge(id, user) {
      calls.push({ method: 'acknowledge', args: [id, user] });
      const alert = active.get(id);
      if (!alert) return undefined;
      const acked: AlertEvent = { ...alert, state: 'acknowledged', by: user, ts: now() };
      active.set(id, acked);
      bus.emit('alert', acked);
      return acked;
    },
    actuators: () => [...actuators.values()].map((a) => ({ ...a, holders: [...a.holders] })),
    command(id, action, value, user, request = {}) {
      calls.push({ method: 'command', args: [id, action, value, user, request] });
      const view = actuator(id);
      const since = now();
      // Like the engine: in auto mode a command is a hold with an end (default 30 min), above any rule.
      const hold =
        view.mode === 'auto'
          ? ({
              kind: 'operator',
              user,
              action,
              ...(action === 'set' ? { value } : {}),
              since,
              until: request.untilMs ?? since + (request.forMs ?? 30 * 60_000),
              decides: true,
            } as const)
          : null;
      view.holders = hold ? [hold] : [];
      bus.emit('actuatorHolders', { ...refOf(view), holders: view.holders, ts: since });
      return { command: send(view, action, value, `manual:${user}`), hold };
    },
    setMode(id, mode, untilMs, user) {
      calls.push({ method: 'setMode', args: [id, mode, untilMs, user] });
      const view = actuator(id);
      view.mode = mode;
      view.manualUntil = mode === 'manual' ? untilMs : undefined;
      bus.emit('actuatorMode', { ...refOf(view), mode, until: untilMs, by: user });
      return { ...view, holders: [...view.holders] };
    },
  };

  return handle;
}

export interface FakeIngest extends IngestHandle {
  addReject(reject: RejectRecord): void;
}

/** Presence from status events and accepted readings; readings, alerts and commands go to the store. */
export function createFakeIngest(deps: { bus: FarmBus; farm: FarmIndex; store: Store }): FakeIngest {
  const presence = new Map<string, DevicePresence>(deps.farm.devices().map((d) => [d.device, { ...refOf(d), status: 'unknown' }]));
  const rejects: RejectRecord[] = [];
  const stats: IngestStats = {
    accepted: 0,
    duplicates: 0,
    messages: 0,
    batches: 0,
    rejected: {
      malformed_json: 0,
      schema: 0,
      out_of_range: 0,
      unknown_metric: 0,
      oversize: 0,
      unauthorised_topic: 0,
      unknown_device: 0,
      future_timestamp: 0,
      stale_timestamp: 0,
    },
  };
  deps.bus.on('status', (s) => presence.set(s.device, { ...refOf(s), status: s.status, statusTs: s.ts, lastSeen: presence.get(s.device)?.lastSeen }));
  deps.bus.on('reading', (r) => {
    stats.accepted += 1;
    stats.messages += 1;
    presence.set(r.device, { ...refOf(r), status: 'online', statusTs: presence.get(r.device)?.statusTs, lastSeen: r.ts });
    void deps.store.writeReadings([r]);
  });
  // What the rules engine would record: alert events and commands, for the history panels.
  deps.bus.on('alert', (a) => void deps.store.writeAlerts([a]));
  deps.bus.on(
    'command',
    (c) =>
      void deps.store.writeCommands([{ site: c.site, zone: c.zone, kind: c.kind, device: c.device, command: c.command, outcome: 'sent', ts: c.command.ts }]),
  );
  return {
    stats: () => stats,
    rejects: () => [...rejects],
    presence: () => [...presence.values()],
    addReject(reject) {
      rejects.unshift(reject);
      stats.rejected[reject.reason] += 1;
    },
  };
}
