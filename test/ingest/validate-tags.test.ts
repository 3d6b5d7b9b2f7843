import { describe, expect, it } from 'vitest';
import { parseTag } from '../../core/tags.js';
import { MAX_TAGS_PER_MESSAGE, validateTagReads } from '../../ingest/validate-tags.js';

const NOW = Date.parse('2026-03-02T07:00:00Z');
const gate = { at: 'gate' as const, now: NOW, maxBytes: 65536, maxFutureMs: 300_000, maxPastMs: 365 * 86_400_000 };
const feeder = { ...gate, at: 'feeder' as const };
const EWE = '982000123456789';
const EPC = 'e2801160600002084e3c1a2b';

describe('tag numbers', () => {
  it('takes 15-digit FDX-B numbers and UHF EPC hex (kept upper-case), and says why anything else is not a tag', () => {
    expect(parseTag(EWE)).toEqual({ ok: true, tag: EWE, scheme: 'fdx-b' });
    expect(parseTag(EPC)).toEqual({ ok: true, tag: EPC.toUpperCase(), scheme: 'epc' });
    for (const bad of ['98200012345678', '9820001234567890x', 'E28011606', 'ZZZZ', '', 982000123456789]) {
      const r = parseTag(bad);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/FDX-B|string/);
    }
  });
});

describe('tag-read messages', () => {
  it('gives a gate burst with its direction and time, one read per tag, a tag listed twice once', () => {
    const r = validateTagReads(JSON.stringify({ ts: NOW - 1000, tags: [EWE, EPC, EWE], direction: 'out' }), gate);
    expect(r).toEqual({ reads: { ts: NOW - 1000, direction: 'out', tags: [EWE, EPC.toUpperCase()] }, rejects: [] });
  });

  it('stamps a read without ts with server time, and takes ISO times', () => {
    expect(validateTagReads(JSON.stringify({ tags: [EWE] }), feeder).reads?.ts).toBe(NOW);
    expect(validateTagReads(JSON.stringify({ ts: '2026-03-02T06:59:00Z', tags: [EWE], direction: 'in' }), gate).reads?.ts).toBe(NOW - 60_000);
  });

  it('rejects one bad tag with its index and keeps the others', () => {
    const r = validateTagReads(JSON.stringify({ tags: [EWE, '12345', EPC], direction: 'in' }), gate);
    expect(r.reads?.tags).toEqual([EWE, EPC.toUpperCase()]);
    expect(r.rejects).toEqual([{ reason: 'schema', detail: expect.stringContaining('tags[1]: "12345" is neither') }]);
  });

  it('needs a direction from a gate reader and refuses one from a pen or feeder reader', () => {
    expect(validateTagReads(JSON.stringify({ tags: [EWE] }), gate)).toEqual({
      rejects: [{ reason: 'schema', detail: expect.stringContaining('a gate reader reports "direction"') }],
    });
    expect(validateTagReads(JSON.stringify({ tags: [EWE], direction: 'in' }), feeder)).toEqual({
      rejects: [{ reason: 'schema', detail: expect.stringContaining('only gate readers report a direction') }],
    });
    expect(validateTagReads(JSON.stringify({ tags: [EWE], direction: 'sideways' }), gate).rejects[0]).toMatchObject({
      reason: 'schema',
      detail: expect.stringContaining('direction'),
    });
  });

  it('counts malformed messages by the same reasons as readings', () => {
    expect(validateTagReads('{"tags": [', gate).rejects[0].reason).toBe('malformed_json');
    expect(validateTagReads(JSON.stringify({ tags: [], direction: 'in' }), gate).rejects[0]).toMatchObject({
      reason: 'schema',
      detail: expect.stringContaining('tags is empty'),
    });
    expect(validateTagReads(JSON.stringify({ tags: [EWE], direction: 'in', metrics: {} }), gate).rejects[0].reason).toBe('schema');
    expect(validateTagReads(JSON.stringify({ tags: Array(MAX_TAGS_PER_MESSAGE + 1).fill(EWE), direction: 'in' }), gate).rejects[0].reason).toBe('schema');
    expect(validateTagReads(JSON.stringify({ ts: NOW + 3_600_000, tags: [EWE], direction: 'in' }), gate).rejects[0].reason).toBe('future_timestamp');
    expect(validateTagReads(JSON.stringify({ ts: 1_700_000, tags: [EWE], direction: 'in' }), gate).rejects[0].reason).toBe('stale_timestamp');
    expect(validateTagReads('x'.repeat(70_000), gate).rejects[0].reason).toBe('oversize');
  });
});
