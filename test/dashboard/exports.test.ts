import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../dashboard/export/csv.js';
import { zonedIsoFormatter } from '../../dashboard/export/site-time.js';
import { FarmConfig } from '../../core/config/schema.js';
import { EXPORT_PAGE } from '../../dashboard/routes/readings.js';
import type { RawQuery } from '../../store/store.js';
import { buildTestDashboard, testFarmConfig, type TestDashboard } from './fixtures.js';

/**
 * CSV exports of readings and alerts: the content (header in the user's language, times in the site's zone as
 * ISO 8601 with offset, one row per stored value), the same filters and site limits as the JSON, and streaming
 * (the first bytes leave before the store has been read to the end). The memory of a 1,000,000-row export is
 * measured by `npm run bench -- export` (bench/scenarios/export.ts), not here.
 */
const START = Date.parse('2024-11-22T00:00:00Z');
let t: TestDashboard;
let base: string;

beforeAll(async () => {
  const farm = testFarmConfig();
  const config = FarmConfig.parse({ ...farm, sites: [{ ...farm.sites[0], timezone: 'Asia/Shanghai' }, farm.sites[1]] });
  t = await buildTestDashboard({}, { config });
  const readings = [];
  for (let i = 0; i < 30; i++)
    readings.push(
      { site: 'huyang', zone: 'shed-1', kind: 'shed' as const, device: 'shed-1-env', ts: START + i * 60_000, metrics: { temperature: 20 + i / 10, nh3: 10 } },
      { site: 'city', zone: 'pipe-a', kind: 'drain' as const, device: 'pipe-a-level', ts: START + i * 60_000 + 500, metrics: { fill: 40 + i } },
    );
  await t.store.writeReadings(readings);
  await t.store.writeAlerts([
    {
      id: 'a1',
      rule: 'shed-ammonia',
      site: 'huyang',
      zone: 'shed-1',
      device: 'shed-1-env',
      severity: 'warning',
      level: null,
      metric: 'nh3',
      state: 'raised',
      value: 31,
      message: 'Ammonia 31 ppm, "high"',
      ts: START + 5 * 60_000,
    },
    {
      id: 'a1',
      rule: 'shed-ammonia',
      site: 'huyang',
      zone: 'shed-1',
      device: 'shed-1-env',
      severity: 'warning',
      level: null,
      metric: 'nh3',
      state: 'acknowledged',
      value: 31,
      message: 'Ammonia 31 ppm, "high"',
      ts: START + 6 * 60_000,
      by: 'otto',
    },
    {
      id: 'p1',
      rule: 'pipe-fill',
      site: 'city',
      zone: 'pipe-a',
      device: 'pipe-a-level',
      severity: 'critical',
      level: 'red',
      metric: 'fill',
      state: 'raised',
      value: 90,
      message: '=fill 90 %',
      ts: START + 7 * 60_000,
    },
  ]);
  const { port } = await t.dashboard.start();
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => t?.close());

const range = `from=${START}&to=${START + 3_600_000}`;
async function csv(url: string, headers: Record<string, string> = {}) {
  const res = await t.dashboard.app.inject({ url, headers: { ...(await t.auth('viewer')), ...headers } });
  expect(res.statusCode, res.body).toBe(200);
  return {
    res,
    lines: res.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n'),
  };
}

describe('CSV export of readings', () => {
  it('has every reading of the range with the time in the site zone (ISO 8601 with offset) and an English header', async () => {
    const { res, lines } = await csv(`/api/readings?device=shed-1-env&metric=temperature&${range}&format=csv`);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="readings-shed-1-env-temperature-2024-11-22.csv"');
    expect(res.body.startsWith('\uFEFF')).toBe(true); // so Excel reads UTF-8
    expect(lines[0]).toBe('time (Asia/Shanghai),site,zone,device,metric,value,unit');
    expect(lines).toHaveLength(31);
    expect(lines[1]).toBe('2024-11-22T08:00:00+08:00,huyang,shed-1,shed-1-env,temperature,20,°C');
    expect(lines[30]).toBe('2024-11-22T08:29:00+08:00,huyang,shed-1,shed-1-env,temperature,22.9,°C');
  });

  it('writes the header in Chinese for ?lang=zh or Accept-Language zh, and answers Accept: text/csv like ?format=csv', async () => {
    const zh = await csv(`/api/readings?device=shed-1-env&metric=nh3&${range}&format=csv&lang=zh`);
    expect(zh.lines[0]).toBe('时间 (Asia/Shanghai),站点,区域,设备,指标,数值,单位');
    const accepted = await csv(`/api/readings?device=shed-1-env&metric=nh3&${range}`, { accept: 'text/csv', 'accept-language': 'zh-CN,zh;q=0.9' });
    expect(accepted.lines).toEqual(zh.lines);
  });

  it('without a metric has every metric of the device; sites in other zones carry their own offset', async () => {
    const { lines } = await csv(`/api/readings?device=shed-1-env&${range}&format=csv`);
    expect(lines.slice(1, 3)).toEqual([
      '2024-11-22T08:00:00+08:00,huyang,shed-1,shed-1-env,nh3,10,ppm',
      '2024-11-22T08:00:00+08:00,huyang,shed-1,shed-1-env,temperature,20,°C',
    ]);
    const all = await csv(`/api/readings?metric=fill&${range}&format=csv`);
    // Two sites in two zones: each row carries its own offset, the header names no single zone.
    expect(all.lines[0]).toBe('time,site,zone,device,metric,value,unit');
    expect(all.lines[1]).toBe('2024-11-22T00:00:00.500+00:00,city,pipe-a,pipe-a-level,fill,40,% of pipe height');
  });

  it('with every, has the buckets (mean, min, max, count) instead of every reading', async () => {
    const { lines } = await csv(`/api/readings?device=shed-1-env&metric=temperature&${range}&every=10m&format=csv`);
    expect(lines[0]).toBe('time (Asia/Shanghai),site,zone,device,metric,mean,min,max,count,sum,unit');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('2024-11-22T08:00:00+08:00,huyang,shed-1,shed-1-env,temperature,20.45,20,20.9,10,,°C');
  });

  it('keeps the JSON answer for the chart (metric still required there)', async () => {
    const json = await t.dashboard.app.inject({
      url: `/api/readings?device=shed-1-env&metric=temperature&${range}&every=10m`,
      headers: await t.auth('viewer'),
    });
    expect(json.json().series[0].buckets).toHaveLength(3);
    const noMetric = await t.dashboard.app.inject({ url: `/api/readings?device=shed-1-env&${range}`, headers: await t.auth('viewer') });
    expect(noMetric.statusCode).toBe(400);
    expect(noMetric.json().problems).toEqual([{ path: 'querystring.metric', message: 'required' }]);
  });

  it('is streamed: the rows of the first page reach the client while the next page is still being read from the store', async () => {
    const device = { site: 'city', zone: 'pipe-b', kind: 'drain' as const, device: 'pipe-b-level' };
    const rows = EXPORT_PAGE * 5;
    const from = START - rows * 1000;
    for (let i = 0; i < rows; i += 20_000)
      await t.store.writeReadings(Array.from({ length: 20_000 }, (_, k) => ({ ...device, ts: from + (i + k) * 1000, metrics: { fill: (i + k) % 100 } })));
    // The store answers the first page, then holds every later one until the test lets it go.
    const calls: RawQuery[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const raw = t.store.raw.bind(t.store);
    t.store.raw = async (q) => {
      calls.push(q);
      if (calls.length > 1) await gate;
      return raw(q);
    };
    try {
      const token = await t.token('viewer');
      const result = await new Promise<{ linesWhileHeld: number; lines: number; chunked: string | undefined }>((resolve, reject) => {
        const req = request(
          `${base}/api/readings?device=pipe-b-level&metric=fill&from=${from}&to=${START}&format=csv`,
          { headers: { authorization: `Bearer ${token}` } },
          (res) => {
            let lines = 0;
            let linesWhileHeld = -1;
            res.on('data', (chunk: Buffer) => {
              for (const byte of chunk) if (byte === 10) lines++;
              // The header and the first page's rows (all but its last instant, which opens the next page) are here.
              if (linesWhileHeld < 0 && lines >= EXPORT_PAGE) {
                linesWhileHeld = lines;
                expect(calls).toHaveLength(2); // the second page is being read, and held
                release();
              }
            });
            res.on('end', () => resolve({ linesWhileHeld, lines, chunked: res.headers['transfer-encoding'] }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(result.linesWhileHeld).toBe(EXPORT_PAGE);
      expect(result.chunked).toBe('chunked');
      expect(result.lines).toBe(rows + 1);
      expect(calls.every((q) => q.limit === EXPORT_PAGE)).toBe(true);
    } finally {
      release();
      t.store.raw = raw;
    }
  });
});

describe('CSV export of alerts', () => {
  it('has the alert events of the range, newest first, quoted where needed and safe to open in a spreadsheet', async () => {
    const { lines } = await csv(`/api/alerts?state=all&${range}&format=csv`);
    expect(lines[0]).toBe('time,site,zone,device,rule,severity,level,state,value,message,by,alert id');
    expect(lines.slice(1)).toEqual([
      "2024-11-22T00:07:00+00:00,city,pipe-a,pipe-a-level,pipe-fill,critical,red,raised,90,'=fill 90 %,,p1",
      '2024-11-22T08:06:00+08:00,huyang,shed-1,shed-1-env,shed-ammonia,warning,,acknowledged,31,"Ammonia 31 ppm, ""high""",otto,a1',
      '2024-11-22T08:05:00+08:00,huyang,shed-1,shed-1-env,shed-ammonia,warning,,raised,31,"Ammonia 31 ppm, ""high""",,a1',
    ]);
    const zh = await csv(`/api/alerts?state=all&site=huyang&${range}&format=csv&lang=zh`);
    expect(zh.lines[0]).toBe('时间 (Asia/Shanghai),站点,区域,设备,规则,严重程度,等级,状态,数值,内容,操作人,告警编号');
    expect(zh.lines).toHaveLength(3);
  });

  it('of the active alerts, too', async () => {
    t.rules.raise({
      id: 'live-1',
      site: 'city',
      zone: 'pipe-b',
      device: 'pipe-b-level',
      severity: 'critical',
      level: 'red',
      message: 'Pipe B fill 95 %',
      value: 95,
      ts: START,
    });
    const { lines } = await csv('/api/alerts?state=active&format=csv');
    expect(lines).toEqual([
      'time,site,zone,device,rule,severity,level,state,value,message,by,alert id',
      '2024-11-22T00:00:00+00:00,city,pipe-b,pipe-b-level,test-rule,critical,red,raised,95,Pipe B fill 95 %,,live-1',
    ]);
  });

  it('a message the rule gives in both languages is exported in the export language', async () => {
    t.rules.raise({
      id: 'live-2',
      site: 'city',
      zone: 'pipe-a',
      device: 'pipe-a-level',
      severity: 'warning',
      message: 'Pipe A fill 72 %',
      messages: { en: 'Pipe A fill 72 %', zh: 'A管充满度 72 %' },
      value: 72,
      ts: START,
    });
    const en = await csv('/api/alerts?state=active&site=city&format=csv');
    expect(en.lines.find((l) => l.endsWith(',live-2'))).toContain(',Pipe A fill 72 %,');
    const zh = await csv('/api/alerts?state=active&site=city&format=csv&lang=zh');
    expect(zh.lines.find((l) => l.endsWith(',live-2'))).toContain(',A管充满度 72 %,');
  });
});

describe('time and cell formatting', () => {
  it('writes local time with the offset in force at that instant, also across a daylight-saving change and for odd offsets', () => {
    const berlin = zonedIsoFormatter('Europe/Berlin');
    expect(berlin(Date.parse('2024-03-31T00:59:59Z'))).toBe('2024-03-31T01:59:59+01:00');
    expect(berlin(Date.parse('2024-03-31T01:00:00Z'))).toBe('2024-03-31T03:00:00+02:00');
    expect(zonedIsoFormatter('Asia/Kathmandu')(Date.parse('2024-11-22T00:00:00.250Z'))).toBe('2024-11-22T05:45:00.250+05:45');
    expect(zonedIsoFormatter('America/St_Johns')(Date.parse('2024-01-01T12:00:00Z'))).toBe('2024-01-01T08:30:00-03:30');
    expect(zonedIsoFormatter('UTC')(0)).toBe('1970-01-01T00:00:00+00:00');
  });

  it('quotes commas, quotes and line breaks, and defuses text a spreadsheet would run as a formula', () => {
    expect(['plain', 'a,b', 'say "hi"', 'two\nlines', '=SUM(A1)', '+1', '@x', -5, 20.5, undefined].map((v) => csvCell(v))).toEqual([
      'plain',
      '"a,b"',
      '"say ""hi"""',
      '"two\nlines"',
      "'=SUM(A1)",
      "'+1",
      "'@x",
      '-5',
      '20.5',
      '',
    ]);
  });
});
