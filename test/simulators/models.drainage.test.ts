import { describe, expect, it } from 'vitest';
import * as drainage from '../../simulators/models/drainage.js';
import {
  chicagoHyetograph,
  rainDepthMm,
  idfMeanMmPerMin,
  EAST_CHINA_IDF,
  inFaHangzhou,
  IN_FA_RAIN_END_HOUR,
  cloudburst,
  CLOUDBURST_DURATION_SEC,
} from '../../simulators/models/rainfall.js';

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

  it('In-Fa as Hangzhou measured it: 230-290 mm over 23-26 July, hours mostly under 10 mm, the wettest about 24 mm', () => {
    for (const seed of [1, 7, 42]) {
      const s = inFaHangzhou({ seed });
      const hourly = Array.from({ length: 110 }, (_, h) => rainDepthMm(s, h * 3600, (h + 1) * 3600, 30));
      const total = hourly.reduce((a, b) => a + b, 0);
      expect(total, `seed ${seed}`).toBeGreaterThan(230);
      expect(total, `seed ${seed}`).toBeLessThan(290);
      const wet = hourly.filter((mm) => mm > 0);
      expect(wet.filter((mm) => mm < 10).length / wet.length).toBeGreaterThan(0.9);
      expect(Math.max(...hourly)).toBeGreaterThan(21);
      expect(Math.max(...hourly)).toBeLessThan(27);
      // A day of ≥ 100 mm (GB/T 28592 heavy rainstorm) on the 25th; it ends on the 26th at 18:00
      const day = (d: number) => hourly.slice(d * 24, d * 24 + 24).reduce((a, b) => a + b, 0);
      expect(day(2)).toBeGreaterThan(100);
      expect(rainDepthMm(s, IN_FA_RAIN_END_HOUR * 3600, 120 * 3600)).toBe(0);
    }
  });

  it('the Beigaofeng cloudburst: 95.3 mm in its wettest hour, about 110 mm in all, then nothing', () => {
    const s = cloudburst({ startSec: 3600 });
    const wettest = Math.max(...Array.from({ length: 180 }, (_, m) => rainDepthMm(s, 3600 + m * 60, 3600 + m * 60 + 3600, 10)));
    expect(wettest).toBeGreaterThan(95);
    expect(wettest).toBeLessThan(100);
    expect(rainDepthMm(s, 0, 6 * 3600, 10)).toBeCloseTo(110, -1);
    expect(rainDepthMm(s, 3600 + CLOUDBURST_DURATION_SEC, 10 * 3600)).toBe(0);
  });

  it('backwater: a pipe whose outlet sump has filled above its invert stands as high as the sump, and a full sump takes only what it pumps', () => {
    const pipe = drainage.defaultPipeParams({ diameterM: 1.0 });
    const dry = drainage.stepPipe(drainage.initialPipeState(pipe), { rainMmPerHour: 0, upstreamM3s: 0, localHour: 12 }, 60);
    expect(dry.waterLevelM).toBeLessThan(0.3);
    const backed = drainage.stepPipe(drainage.initialPipeState(pipe), { rainMmPerHour: 0, upstreamM3s: 0, localHour: 12, tailwaterM: 0.7 }, 60);
    expect(backed.waterLevelM).toBeCloseTo(0.7, 2);
    expect(backed.fillPct).toBeCloseTo(70, 0);
    const sump = drainage.initialSumpState(drainage.defaultSumpParams({ depthM: 4, inletLevelM: 3 }), 4);
    const outlet = drainage.sumpOutlet(sump, 0);
    expect(outlet).toEqual({ tailwaterM: 1, outflowLimitM3s: 0 });
    // a storm into a full sump with its pump off: the water stays in the pipe, above the crown, and surcharges
    let s = drainage.initialPipeState(pipe);
    for (let i = 0; i < 30; i++) s = drainage.stepPipe(s, { rainMmPerHour: 30, upstreamM3s: 0, localHour: 12, ...outlet }, 60);
    expect(s.outflowM3s).toBe(0);
    expect(s.fillPct).toBe(100);
    expect(s.waterLevelM).toBeGreaterThan(1);
  });
});
