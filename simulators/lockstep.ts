import type { DeviceRef, Command } from '../core/domain.js';
import type { FarmSimulation, SimOutput } from './farm-sim.js';
import type { DeviceFleet } from './device-fleet.js';
import type { SimClock } from './sim-clock.js';

/**
 * Lockstep between the simulated farm and a service that runs in the same process on the same SimClock.
 * A step moves the clock (the service's timers fire), plays the simulation to the same instant, publishes
 * what fell due, and waits until the broker acknowledged all of it. Commands the service sends (told by
 * its bus) pause the clock until the actuator has answered: otherwise a command sent by a timer early in a
 * long step would meet its ack timeout before the actuator had a chance to read it.
 */
export interface CommandSource {
  on(event: 'command', listener: (c: DeviceRef & { command: Command }) => void): unknown;
  off(event: 'command', listener: (c: DeviceRef & { command: Command }) => void): unknown;
}

export interface LockstepOptions {
  clock: SimClock;
  simulation: FarmSimulation;
  fleet: DeviceFleet;
  startTs: number;
  dispatch(out: SimOutput[]): void;
  /** The in-process service's bus; without it a command sent by a timer is answered one step late. */
  commands?: CommandSource;
  /** How long one step may wait for acknowledgements and answers, ms. */
  timeoutMs: number;
}

export interface Lockstep {
  /** Plays to `targetSec` (simulated seconds since the start); false if some step gave up waiting. */
  playTo(targetSec: number): Promise<boolean>;
  /** The runner tells it which commands reached their device. */
  received(device: string, payload: Buffer): void;
  close(): void;
}

const turn = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function commandId(payload: Buffer): string | undefined {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export function createLockstep(o: LockstepOptions): Lockstep {
  // Commands sent to a connected simulated actuator and not yet read by it.
  const awaited = new Set<string>();
  const listener = (c: DeviceRef & { command: Command }) => {
    if (o.fleet.has(c.device) && o.fleet.connected(c.device)) awaited.add(c.command.id);
  };
  o.commands?.on('command', listener);

  /** Waits until every publish is acknowledged and every awaited command was read (and so answered). */
  async function settle(): Promise<boolean> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      if (!(await o.fleet.idle(Math.max(0, deadline - Date.now())))) return false;
      // A command may already sit in a socket: let the loop read it before judging.
      await turn();
      if (awaited.size === 0 && o.fleet.inFlight() === 0) return true;
      if (Date.now() >= deadline) return false;
      if (awaited.size > 0) await sleep(1);
    }
  }

  return {
    async playTo(targetSec) {
      const targetTs = o.startTs + Math.round(targetSec * 1000);
      let ok = true;
      for (;;) {
        const reached = o.clock.advanceTo(targetTs, () => awaited.size > 0);
        o.dispatch(o.simulation.advance((reached - o.startTs) / 1000 - o.simulation.elapsedSec()));
        ok = (await settle()) && ok;
        if (!ok) awaited.clear(); // a device that does not read its commands must not hold time forever
        if (reached >= targetTs) return ok;
      }
    },
    received(_device, payload) {
      const id = commandId(payload);
      if (id) awaited.delete(id);
    },
    close() {
      o.commands?.off('command', listener);
    },
  };
}
