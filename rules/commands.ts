import { randomUUID } from 'node:crypto';
import type { Command, CommandAction, DeviceRef } from '../core/domain.js';
import type { FarmBus } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { deviceTopic } from '../core/topics.js';
import type { CommandRecord } from '../store/store.js';
import type { BatchWriter } from './persist.js';

/**
 * Sends actuator commands and sees them acknowledged (SPEC: the actuator publishes its state with `ack`
 * set to the command id). No ack within ackTimeoutMs: the same command (same id, so a late ack of an
 * earlier attempt still counts) is sent again, up to maxRetries times; then `onFailed` raises the alert.
 * An ack that comes after that (a slow actuator, not a dead one), or for a command a newer one replaced, is
 * still recorded `acked`: the command history says what the actuator really did.
 *
 * An actuator that said it is offline (its `status`: a clean goodbye, or its Last Will when it dropped) is not
 * expected to answer: its pending command waits, without retries or the "not responding" alert, and goes out
 * again with a fresh round of retries when the actuator reports `online`. So stopping a simulator (or unplugging a
 * controller) does not turn the `off` the rules send after it into a critical alert; the dashboard shows the
 * actuator offline instead.
 */
export type Publish = (topic: string, payload: string, opts: { qos: 0 | 1; retain?: boolean }) => Promise<void>;

export interface CommandDispatcherOptions {
  topicRoot: string;
  ackTimeoutMs: number;
  maxRetries: number;
  publish: Publish;
  bus: FarmBus;
  logger: Logger;
  records: BatchWriter<CommandRecord>;
  onFailed(ref: DeviceRef, command: Command, attempts: number): void;
}

interface Pending {
  ref: DeviceRef;
  command: Command;
  attempts: number;
  deadline: number;
}

export interface CommandDispatcher {
  send(ref: DeviceRef, action: CommandAction, value: number | undefined, reason: string, now: number): Command;
  /**
   * After a restart: a command the stored history shows sent but never acknowledged is sent again (same id,
   * so an actuator that did get it just acknowledges it again), with a fresh round of retries.
   */
  resume(ref: DeviceRef, command: Command, now: number): void;
  /** After a restart: a command the history shows given up on, so that its late ack is still recorded. */
  remember(ref: DeviceRef, command: Command): void;
  /**
   * An actuator's state report: `pending` when it acknowledged the command on its way, `late` when it
   * acknowledged one given up on or replaced (recorded `acked` all the same), undefined otherwise.
   */
  onState(device: string, ack: string | undefined, now: number): 'pending' | 'late' | undefined;
  /** The actuator's own `status` report: offline parks its pending command, online sends it again. */
  onStatus(device: string, online: boolean, now: number): void;
  tick(now: number): void;
  pending(device: string): Command | undefined;
}

/** Unacknowledged commands kept per actuator for a late ack: a few are enough (each newer one replaces the last). */
const KEEP_UNCONFIRMED = 4;

export function createCommandDispatcher(o: CommandDispatcherOptions): CommandDispatcher {
  const pending = new Map<string, Pending>();
  const unconfirmed = new Map<string, Pending[]>();
  /** Actuators whose last status report was `offline`. */
  const offline = new Set<string>();

  function giveUp(p: Pending): void {
    const list = unconfirmed.get(p.ref.device) ?? [];
    list.push(p);
    if (list.length > KEEP_UNCONFIRMED) list.shift();
    unconfirmed.set(p.ref.device, list);
  }

  function put(p: Pending): void {
    const payload = JSON.stringify(p.command);
    o.publish(deviceTopic(o.topicRoot, p.ref, 'cmd'), payload, { qos: 1 }).catch((err: Error) =>
      // The ack timeout retries; a broker that stays away ends in the "not responding" alert.
      o.logger.warn({ device: p.ref.device, command: p.command.id, err: err.message }, 'publishing a command failed'),
    );
  }

  function record(p: Pending, outcome: CommandRecord['outcome'], now: number): void {
    o.records.push({ ...p.ref, command: p.command, outcome, ts: now });
  }

  return {
    send(ref, action, value, reason, now) {
      const command: Command = { id: randomUUID(), action, reason, ts: now };
      if (action === 'set' && value !== undefined) command.value = value;
      const p: Pending = { ref: { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device }, command, attempts: 1, deadline: now + o.ackTimeoutMs };
      const older = pending.get(ref.device);
      if (older) giveUp(older);
      pending.set(ref.device, p); // a newer command supersedes an unacknowledged older one
      put(p);
      o.bus.emit('command', { ...p.ref, command });
      record(p, 'sent', now);
      return command;
    },
    resume(ref, command, now) {
      if (pending.has(ref.device)) return;
      const p: Pending = { ref: { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device }, command, attempts: 1, deadline: now + o.ackTimeoutMs };
      pending.set(ref.device, p);
      o.logger.info({ device: ref.device, command: command.id }, 'command unacknowledged before the restart: sending it again');
      put(p);
      record(p, 'retried', now);
    },
    remember(ref, command) {
      giveUp({ ref: { site: ref.site, zone: ref.zone, kind: ref.kind, device: ref.device }, command, attempts: 0, deadline: 0 });
    },
    onState(device, ack, now) {
      if (!ack) return undefined;
      const p = pending.get(device);
      if (p && ack === p.command.id) {
        pending.delete(device);
        record(p, 'acked', now);
        return 'pending';
      }
      const list = unconfirmed.get(device) ?? [];
      const i = list.findIndex((u) => u.command.id === ack);
      if (i < 0) return undefined;
      const [late] = list.splice(i, 1);
      record(late, 'acked', now);
      return 'late';
    },
    onStatus(device, online, now) {
      if (!online) {
        offline.add(device);
        const p = pending.get(device);
        if (p) o.logger.info({ device, command: p.command.id }, 'actuator offline: its command waits until it is back');
        return;
      }
      if (!offline.delete(device)) return;
      const p = pending.get(device);
      if (!p) return;
      p.attempts = 1;
      p.deadline = now + o.ackTimeoutMs;
      o.logger.info({ device, command: p.command.id }, 'actuator back online: sending its waiting command again');
      put(p);
      record(p, 'retried', now);
    },
    tick(now) {
      for (const [device, p] of pending) {
        if (offline.has(device)) continue; // nobody to answer: it waits for the device's online report
        if (now < p.deadline) continue;
        if (p.attempts <= o.maxRetries) {
          p.attempts++;
          p.deadline = now + o.ackTimeoutMs;
          o.logger.warn({ device, command: p.command.id, attempt: p.attempts }, 'no ack from actuator: sending the command again');
          put(p);
          record(p, 'retried', now);
          o.bus.emit('commandOutcome', { ...p.ref, command: p.command, outcome: 'retried', attempt: p.attempts, attempts: o.maxRetries + 1, ts: now });
        } else {
          pending.delete(device);
          giveUp(p);
          record(p, 'failed', now);
          o.bus.emit('commandOutcome', { ...p.ref, command: p.command, outcome: 'failed', attempt: p.attempts, attempts: o.maxRetries + 1, ts: now });
          o.onFailed(p.ref, p.command, p.attempts);
        }
      }
    },
    pending: (device) => pending.get(device)?.command,
  };
}
