/**
 * The order of a drainage network, from the farm file: a zone's `attributes.upstream` names the zone that flows
 * into it. Drawn as chains from a source to an outlet, the longest (the trunk) first; a branch that joins a chain
 * says which zone it flows into. Rain gauges and zones without a type of pipe or sump are not part of it. Pure.
 */
export interface NetZone {
  id: string;
  kind: string;
  attributes?: Record<string, string | number | boolean>;
}

export interface Chain {
  /** Zone ids, upstream first. */
  zones: string[];
  /** The zone the last one flows into (a branch joining another chain); undefined for an outlet. */
  into?: string;
}

const NETWORK_TYPES = new Set(['pipe', 'sump', 'culvert', 'channel', 'well', 'pump-station']);

export function isNetworkZone(z: NetZone): boolean {
  if (z.kind !== 'drain') return false;
  const type = z.attributes?.type;
  return typeof type === 'string' ? NETWORK_TYPES.has(type) : typeof z.attributes?.upstream === 'string';
}

export function networkChains(zones: readonly NetZone[]): Chain[] {
  const nodes = zones.filter(isNetworkZone);
  const ids = new Set(nodes.map((z) => z.id));
  const downstream = new Map<string, string>();
  const upstreams = new Map<string, string[]>();
  for (const z of nodes) {
    const up = z.attributes?.upstream;
    if (typeof up !== 'string' || !ids.has(up) || up === z.id || downstream.has(up)) continue;
    downstream.set(up, z.id);
    upstreams.set(z.id, [...(upstreams.get(z.id) ?? []), up]);
  }
  // Longest path from a source ending at each zone (guarding against a loop in the file).
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen = new Set<string>()): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = 1 + Math.max(0, ...(upstreams.get(id) ?? []).map((u) => depthOf(u, seen)));
    depth.set(id, d);
    return d;
  };
  for (const z of nodes) depthOf(z.id);

  const placed = new Set<string>();
  const chains: Chain[] = [];
  const order = new Map(nodes.map((z, i) => [z.id, i]));
  // Bottoms of chains: outlets first, then zones whose downstream is already drawn; deepest first.
  const nextBottom = () =>
    nodes
      .filter((z) => !placed.has(z.id) && (!downstream.has(z.id) || placed.has(downstream.get(z.id)!)))
      .sort((a, b) => Number(downstream.has(a.id)) - Number(downstream.has(b.id)) || depthOf(b.id) - depthOf(a.id) || order.get(a.id)! - order.get(b.id)!)[0];
  for (let bottom = nextBottom(); bottom; bottom = nextBottom()) {
    const chain: string[] = [];
    let at: string | undefined = bottom.id;
    while (at && !placed.has(at)) {
      chain.unshift(at);
      placed.add(at);
      const ups: string[] = (upstreams.get(at) ?? []).filter((u) => !placed.has(u));
      at = ups.sort((a, b) => depthOf(b) - depthOf(a))[0];
    }
    chains.push({ zones: chain, into: downstream.get(bottom.id) });
  }
  // Anything left is part of a loop in the file: show it rather than lose it.
  for (const z of nodes) if (!placed.has(z.id)) chains.push({ zones: [z.id] });
  return chains;
}

/**
 * How full a pipe or sump is from its level and size (`diameterM`, or a sump's `depthM`): above 100 % it is
 * surcharged (the fill sensor stops at 100 % of the pipe height; the level does not).
 */
export function levelFill(levelM: number | undefined, attributes: NetZone['attributes']): { percent: number; surchargeM: number } | undefined {
  const size = Number(attributes?.diameterM ?? attributes?.depthM);
  if (levelM === undefined || !Number.isFinite(size) || size <= 0) return undefined;
  return { percent: (levelM / size) * 100, surchargeM: Math.max(0, levelM - size) };
}
