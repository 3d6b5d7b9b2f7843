/**
 * Another client using the simulated devices' ids. An MQTT broker keeps one connection per client id and closes
 * the older one when a second connects with the same id; both reconnect, and the two fight (devices connected
 * 38 → 0 every few seconds). That is what happens when `npm run simulate` plays the demo farm against `npm start`,
 * whose built-in simulator already plays it. A broker restart closes each connection once; a fight closes the same
 * devices again and again, which is what this watches for. Pure: the caller passes the time.
 */
export interface TakeoverWatch {
  /** A device's connection was closed by the other side (not by us); true once the pattern is a fight. */
  closed(device: string, now: number): boolean;
}

export const TAKEOVER_HELP =
  'another client is connecting with the same device ids: the broker closed the same devices again and again right after they connected. ' +
  'If the service was started with `npm start` on the demo farm, its built-in simulator is already playing these devices: ' +
  'start the service with SIMULATE=false (SIMULATE=false npm start) and run the simulator again, or stop the other simulator.';

export function createTakeoverWatch(o: { devices: number; windowMs?: number; closesEach?: number }): TakeoverWatch {
  const windowMs = o.windowMs ?? 30_000;
  const closesEach = o.closesEach ?? 3;
  // Half the fleet (at least two devices) fighting is no flaky network.
  const devicesNeeded = Math.max(2, Math.ceil(o.devices / 2));
  const closes = new Map<string, number[]>();
  return {
    closed(device, now) {
      closes.set(device, [...(closes.get(device) ?? []).filter((t) => now - t < windowMs), now]);
      let fighting = 0;
      for (const [d, list] of closes) {
        const recent = list.filter((t) => now - t < windowMs);
        closes.set(d, recent);
        if (recent.length >= closesEach) fighting++;
      }
      return fighting >= devicesNeeded;
    },
  };
}
