import { describe, expect, it } from 'vitest';
import * as drainage from '../../simulators/models/drainage.js';
import { chicagoHyetograph, rainDepthMm, typhoonSeries, typhoonRainEndSec, idfMeanMmPerMin, EAST_CHINA_IDF } from '../../simulators/models/rainfall.js';

const storm = chicagoHyetograph({ returnPeriodYears: 2, durationMin: 60, startSec: 1800 });

/** Steps a pipe through a rain series, one-minute steps; returns fill and rain per minute. */
function playPipe(params: drainage.PipeParams, rain: (t: number) => number, hours: number) {
  let s = drainage.initialPipeState(params);
  const fill: number[] = [];
  const rainfall: number[] = [];
  for (let t = 0; t < hours * 3600; t += 60) {
    s = drainage.stepPipe(s, { rainMmPerHour: rain(t + 30), upstreamM3s: 0, localHour: 12 }, 60);
    fill.push(s.fillPct);
    rainfall.push(rain(t + 30));
  }
  return { fill, rainfall, state: s };
}

const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));

describe('drainage model', () => {
  it('pipe fill rises after the rain with a lag and falls after it stops', () => {
    const design = drainage.defaultPipeParams({ diameterM: 0.8 });
    const { fill, rainfall } = playPipe({ ...design, catchmentHa: design.catchmentHa / 2 }, storm, 5);
    const rainPeak = argmax(rainfall);
    const fillPeak = argmax(fill);
    expect(fillPeak).toBeGreaterThan(rainPeak + 3); // minutes of lag
    expect(fill[fillPeak]).toBeGreaterThan(fill[0] + 30);
    expect(fill[fillPeak]).toBeLessThan(100);
    expect(fill[fill.length - 1]).toBeLessThan(fill[fillPeak] - 30);
    expect(fill[fill.length - 1]).toBeLessThan(30);
  });

  it('a silted pipe stays above 60 % in dry weather while a clean one runs low', () => {
    const silted = playPipe(drainage.defaultPipeParams({ diameterM: 0.8, blockage: 0.7 }), () => 0, 12);
    const clean = playPipe(drainage.defaultPipeParams({ diameterM: 0.8 }), () => 0, 12);
    expect(Math.min(...silted.fill)).toBeGreaterThan(60);
    expect(Math.max(...clean.fill)).toBeLessThan(30);
  });

  it('flow above capacity surcharges: fill 100 % and the level rises above the crown', () => {
    const { state } = playPipe(drainage.defaultPipeParams({ diameterM: 0.6 }), () => 120, 2);
    expect(state.fillPct).toBe(100);
    expect(state.waterLevelM).toBeGreaterThan(0.6);
    expect(state.waterLevelM).toBeLessThanOrEqual(state.params.depthBelowGroundM);
  });

  it('Manning partial flow: a pipe runs 50 % full at half its full-bore flow ratio', () => {
    expect(drainage.partialFlowRatio(0.5)).toBeCloseTo(0.5, 2);
    expect(drainage.relativeDepth(0.5)).toBeCloseTo(0.5, 2);
    expect(drainage.fullCapacityM3s({ diameterM: 1, slope: 0.003, manningN: 0.013 })).toBeCloseTo(1.31, 1);
  });

  it('the pump lowers the sump when commanded and the sump rises without it', () => {
    const params = drainage.defaultSumpParams();
    let off = drainage.initialSumpState(params, 2);
    let on = drainage.initialSumpState(params, 2);
    for (let i = 0; i < 30; i++) {
      off = drainage.stepSump(off, { rainMmPerHour: 10, upstreamM3s: 0, pumpPct: 0 }, 60);
      on = drainage.stepSump(on, { rainMmPerHour: 10, upstreamM3s: 0, pumpPct: 100 }, 60);
    }
    expect(off.levelM).toBeGreaterThan(2);
    expect(on.levelM).toBeLessThan(2);
    expect(on.pumpedM3h).toBeGreaterThan(0);
  });

  it('a tipping-bucket gauge reports whole 0.2 mm tips and loses no rain', () => {
    let g = drainage.initialGaugeState();
    let reported = 0;
    for (let i = 0; i < 60; i++) {
      g = drainage.stepGauge(g, 7, 60);
      const r = drainage.takeGaugeReport(g);
      g = r.state;
      expect(Math.round(r.rainMm * 10) % 2).toBe(0);
      reported += r.rainMm;
    }
    expect(reported + g.bucketMm).toBeCloseTo(7, 6);
  });

  it('the Chicago hyetograph peaks at r·duration and holds the IDF depth', () => {
    const s = chicagoHyetograph({ returnPeriodYears: 5, durationMin: 120, peakRatio: 0.4 });
    const samples = Array.from({ length: 120 }, (_, m) => s(m * 60 + 30));
    expect(argmax(samples)).toBe(48);
    const idfDepth = idfMeanMmPerMin(EAST_CHINA_IDF, 5, 120) * 120;
    expect(rainDepthMm(s, 0, 7200, 10)).toBeCloseTo(idfDepth, -1);
  });

  it('the typhoon series: outer bands pass 50 mm in 12 h before any 6 h does, then hours above 50 mm/h, then it stops', () => {
    const s = typhoonSeries({ seed: 7 });
    const depth = (fromH: number, toH: number) => rainDepthMm(s, fromH * 3600, toH * 3600);
    // Outer bands: the CMA blue signal (50 mm in 12 h) comes before the yellow (50 mm in 6 h).
    expect(depth(0, 8)).toBeGreaterThan(45);
    for (let h = 6; h <= 8; h++) expect(depth(h - 6, h)).toBeLessThan(50);
    const hourly = Array.from({ length: 16 }, (_, h) => depth(h, h + 1));
    expect(hourly.filter((mm) => mm > 50).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...hourly.slice(0, 8))).toBeLessThan(15);
    expect(typhoonRainEndSec()).toBe(13.5 * 3600);
    expect(depth(13.5, 40)).toBe(0);
    expect(depth(0, 13.5)).toBeGreaterThan(250); // In-Fa left several hundred mm
  });
});
