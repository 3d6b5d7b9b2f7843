import type { Rng } from './rng.js';
import { clamp, relax, round } from './units.js';

/**
 * Urban drainage: catchment runoff by the rational method (Q = C·i·A) routed through a linear reservoir
 * (lag), into circular pipes whose depth follows Manning's equation for partial flow. Flow above capacity
 * surcharges into manholes and the level rises above the crown. A silted pipe holds standing water behind
 * its deposit and loses capacity, so its level stays high in dry weather.
 */
export interface PipeParams {
  diameterM: number;
  slope: number;
  /** Manning roughness; 0.013 for concrete pipe (GB 50014 / standard hydraulics tables). */
  manningN: number;
  catchmentHa: number;
  /** Runoff coefficient; 0.85–0.95 for roofs and paving (GB 50014). */
  runoffCoefficient: number;
  /** Linear-reservoir time constant of the catchment, minutes (surface travel to the inlet). */
  lagMin: number;
  /** Dry-weather flow (sewage, infiltration) as a share of full capacity. */
  baseFlowShare: number;
  /**
   * Share of the catchment's rain runoff that enters the pipe: 1 for a storm (or combined) pipe; for a separate
   * sewage pipe only rain-derived infiltration and inflow, commonly 5-20 % of the rain on its area (U.S. EPA
   * SSOAP toolbox, RDII; here 10 %).
   */
  rainShare: number;
  /** Silt/blockage as a share of the pipe height (0 = clean). */
  blockage: number;
  /** Plan area of the manholes that store surcharge, m². */
  manholeAreaM2: number;
  /** Depth of the invert below ground: the level cannot rise higher without flooding the street. */
  depthBelowGroundM: number;
}

export interface PipeState {
  params: PipeParams;
  /** Water held on the catchment surface on its way to the inlets, m³. */
  surfaceM3: number;
  /** Water stored above the crown in manholes, m³. */
  surchargeM3: number;
  /** Water that rose out of the manholes onto the street since the start, m³ (lost to the model). */
  floodedM3: number;
  outflowM3s: number;
  fillPct: number;
  waterLevelM: number;
}

export interface PipeInputs {
  rainMmPerHour: number;
  /** Outflow of the pipes that drain into this one, m³/s. */
  upstreamM3s: number;
  /** Farm-local hour, for the daily rhythm of dry-weather flow. */
  localHour: number;
  /** Water depth at the outlet above this pipe's invert (a sump filling up behind it), m: backwater. */
  tailwaterM?: number;
  /** Most the outlet can take, m³/s (a full sump takes only what its pump removes). */
  outflowLimitM3s?: number;
}

export const DESIGN_RAIN_MM_PER_HOUR = 45; // roughly a 3–5-year storm of one hour in East China

/** Full-bore capacity, m³/s (Manning: Q = A·R^(2/3)·S^(1/2)/n, R = D/4). */
export function fullCapacityM3s(p: Pick<PipeParams, 'diameterM' | 'slope' | 'manningN'>): number {
  const area = (Math.PI * p.diameterM ** 2) / 4;
  return (area * Math.pow(p.diameterM / 4, 2 / 3) * Math.sqrt(p.slope)) / p.manningN;
}

/** Partial-flow ratio Q/Qfull at relative depth y of a circular pipe. */
export function partialFlowRatio(y: number): number {
  if (y <= 0) return 0;
  const theta = 2 * Math.acos(1 - 2 * Math.min(y, 1));
  const areaRatio = (theta - Math.sin(theta)) / (2 * Math.PI);
  const radiusRatio = (theta - Math.sin(theta)) / theta; // R/R_full
  return areaRatio * Math.pow(radiusRatio, 2 / 3);
}

/** Relative depth for a flow ratio; near capacity the pipe runs full early (backwater), so blend to 1. */
export function relativeDepth(flowRatio: number): number {
  if (flowRatio <= 0) return 0;
  if (flowRatio >= 1) return 1;
  let lo = 0;
  let hi = 0.82; // Q/Qfull reaches 1 near y = 0.82 and is monotone below it
  for (let i = 0; i < 24; i++) {
    const mid = (lo + hi) / 2;
    if (partialFlowRatio(mid) < flowRatio) lo = mid;
    else hi = mid;
  }
  const y = (lo + hi) / 2;
  const blend = clamp((flowRatio - 0.85) / 0.15, 0, 1);
  return y + (1 - y) * blend * blend;
}

/** Catchment area that fills the pipe at the design rain, ha. */
export function designCatchmentHa(p: Pick<PipeParams, 'diameterM' | 'slope' | 'manningN' | 'runoffCoefficient'>): number {
  const runoffPerHa = (p.runoffCoefficient * DESIGN_RAIN_MM_PER_HOUR * 1e4) / 1000 / 3600;
  return fullCapacityM3s(p) / runoffPerHa;
}

export function defaultPipeParams(overrides: Partial<PipeParams> = {}): PipeParams {
  const base = { diameterM: 1.0, slope: 0.003, manningN: 0.013, runoffCoefficient: 0.85, ...overrides };
  return {
    lagMin: 20,
    baseFlowShare: 0.05,
    rainShare: 1,
    blockage: 0,
    manholeAreaM2: 12,
    depthBelowGroundM: 3.5,
    catchmentHa: designCatchmentHa(base),
    ...base,
    ...overrides,
  };
}

export function initialPipeState(params: PipeParams): PipeState {
  return { params, surfaceM3: 0, surchargeM3: 0, floodedM3: 0, outflowM3s: 0, fillPct: params.blockage * 100, waterLevelM: params.blockage * params.diameterM };
}

export function stepPipe(s: PipeState, inputs: PipeInputs, dtSec: number): PipeState {
  const p = s.params;
  const capacity = fullCapacityM3s(p) * Math.pow(1 - p.blockage, 1.5);
  // Linear reservoir: the surface store drains with time constant k, so the pipe answers rain with a lag.
  const runoffM3s = (p.rainShare * p.runoffCoefficient * inputs.rainMmPerHour * p.catchmentHa * 1e4) / 1000 / 3600;
  const k = p.lagMin * 60;
  const surfaceM3 = relax(s.surfaceM3, runoffM3s * k, 1 / k, dtSec);
  const surfaceOut = surfaceM3 / k;
  // Dry-weather flow peaks in the morning and evening.
  const rhythm = 1 + 0.3 * Math.sin((2 * Math.PI * (inputs.localHour - 4)) / 12);
  // Sewage and infiltration scale with the pipe's own catchment, so flows add up along a trunk line.
  const baseFlow = ((p.baseFlowShare * fullCapacityM3s(p) * p.catchmentHa) / designCatchmentHa(p)) * rhythm;
  const inflow = surfaceOut + baseFlow + inputs.upstreamM3s + s.surchargeM3 / dtSec;
  const outflowM3s = Math.min(inflow, capacity, inputs.outflowLimitM3s ?? Infinity);
  const excessM3 = Math.max(0, (inflow - outflowM3s) * dtSec);
  const manholeCapacityM3 = p.manholeAreaM2 * Math.max(0, p.depthBelowGroundM - p.diameterM);
  const surchargeM3 = Math.min(excessM3, manholeCapacityM3);
  const flowDepth = relativeDepth(outflowM3s / capacity);
  // Backwater: the water at the outlet stands in the pipe at least as high as it stands there.
  const tailwaterM = Math.max(0, inputs.tailwaterM ?? 0);
  const fill = surchargeM3 > 0 ? 1 : Math.max(p.blockage + (1 - p.blockage) * flowDepth, Math.min(1, tailwaterM / p.diameterM));
  const aboveCrown = surchargeM3 / p.manholeAreaM2;
  const waterLevelM = Math.min(p.depthBelowGroundM, Math.max(fill * p.diameterM + aboveCrown, tailwaterM));
  const floodedM3 = s.floodedM3 + (excessM3 - surchargeM3);
  return { params: p, surfaceM3, surchargeM3, floodedM3, outflowM3s, fillPct: fill * 100, waterLevelM };
}

export const PIPE_METRICS = ['water_level', 'fill', 'flow'] as const;

/** Ultrasonic level sensor (±5 mm) and a flow estimate (±5 %). */
export function readPipe(s: PipeState, rng: Rng): Record<string, number> {
  const level = clamp(s.waterLevelM + rng.gaussian(0, 0.005), 0, 20);
  return {
    water_level: round(level, 3),
    fill: round(clamp((100 * Math.min(level, s.params.diameterM)) / s.params.diameterM, 0, 100), 1),
    flow: round(clamp(s.outflowM3s * 3600 * (1 + rng.gaussian(0, 0.02)), 0, 100000), 1),
  };
}

/** A pumping-station wet well: inflow raises it, the pump (when commanded) lowers it. */
export interface SumpParams {
  areaM2: number;
  depthM: number;
  /** Height of the incoming pipes' invert above the sump floor, m: above it the sump backs water up the pipes. */
  inletLevelM: number;
  pumpCapacityM3h: number;
  catchmentHa: number;
  runoffCoefficient: number;
  lagMin: number;
  baseInflowM3h: number;
}

export interface SumpState {
  params: SumpParams;
  surfaceM3: number;
  levelM: number;
  pumpedM3h: number;
  overflowM3: number;
}

export interface SumpInputs {
  rainMmPerHour: number;
  upstreamM3s: number;
  pumpPct: number;
}

export function defaultSumpParams(overrides: Partial<SumpParams> = {}): SumpParams {
  const depthM = overrides.depthM ?? 4;
  return {
    areaM2: 150,
    depthM,
    inletLevelM: depthM * 0.5,
    pumpCapacityM3h: 1500,
    catchmentHa: 2,
    runoffCoefficient: 0.85,
    lagMin: 15,
    baseInflowM3h: 20,
    ...overrides,
  };
}

export function initialSumpState(params: SumpParams, levelM = params.depthM * 0.3): SumpState {
  return { params, surfaceM3: 0, levelM, pumpedM3h: 0, overflowM3: 0 };
}

export function stepSump(s: SumpState, inputs: SumpInputs, dtSec: number): SumpState {
  const p = s.params;
  const k = p.lagMin * 60;
  const runoffM3s = (p.runoffCoefficient * inputs.rainMmPerHour * p.catchmentHa * 1e4) / 1000 / 3600;
  const surfaceM3 = relax(s.surfaceM3, runoffM3s * k, 1 / k, dtSec);
  const inflowM3 = (surfaceM3 / k + inputs.upstreamM3s + p.baseInflowM3h / 3600) * dtSec;
  const available = s.levelM * p.areaM2 + inflowM3;
  const pumpedM3 = Math.min(available, ((clamp(inputs.pumpPct, 0, 100) / 100) * p.pumpCapacityM3h * dtSec) / 3600);
  const volume = available - pumpedM3;
  const capacityM3 = p.depthM * p.areaM2;
  return {
    params: p,
    surfaceM3,
    levelM: Math.min(volume, capacityM3) / p.areaM2,
    pumpedM3h: (pumpedM3 / dtSec) * 3600,
    overflowM3: s.overflowM3 + Math.max(0, volume - capacityM3),
  };
}

/** What a pipe draining into this sump meets at its outlet: backwater depth above its invert, and what the sump can take. */
export function sumpOutlet(s: SumpState, pumpPct: number): { tailwaterM: number; outflowLimitM3s: number } {
  const p = s.params;
  const full = s.levelM >= p.depthM - 0.01;
  return {
    tailwaterM: Math.max(0, s.levelM - p.inletLevelM),
    outflowLimitM3s: full ? ((clamp(pumpPct, 0, 100) / 100) * p.pumpCapacityM3h) / 3600 : Infinity,
  };
}

export function readSump(s: SumpState, rng: Rng): Record<string, number> {
  const level = clamp(s.levelM + rng.gaussian(0, 0.005), 0, 20);
  return {
    water_level: round(level, 3),
    fill: round(clamp((100 * level) / s.params.depthM, 0, 100), 1),
    flow: round(clamp(s.pumpedM3h, 0, 100000), 1),
  };
}

/**
 * A tipping-bucket rain gauge (0.2 mm per tip, the usual resolution, e.g. WMO-No. 8 ch. 6): rain collects
 * in the bucket, whole tips are counted, and each report gives the mm tipped since the previous report.
 */
export interface GaugeState {
  bucketMm: number;
  tippedMm: number;
  totalMm: number;
}

export const TIP_MM = 0.2;

export function initialGaugeState(): GaugeState {
  return { bucketMm: 0, tippedMm: 0, totalMm: 0 };
}

export function stepGauge(s: GaugeState, rainMmPerHour: number, dtSec: number): GaugeState {
  const bucket = s.bucketMm + (Math.max(0, rainMmPerHour) * dtSec) / 3600;
  const tips = Math.floor(bucket / TIP_MM + 1e-9);
  return { bucketMm: bucket - tips * TIP_MM, tippedMm: s.tippedMm + tips * TIP_MM, totalMm: s.totalMm + tips * TIP_MM };
}

/** The report empties the tipped counter: returns the reading and the gauge after it. */
export function takeGaugeReport(s: GaugeState): { rainMm: number; state: GaugeState } {
  return { rainMm: round(s.tippedMm, 1), state: { ...s, tippedMm: 0 } };
}
