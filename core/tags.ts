/**
 * Ear-tag numbers (SPEC "Tag reads"). Two kinds are read on a farm:
 * - ISO 11784/11785 FDX-B (the low-frequency sheep tag): 15 decimal digits, a 3-digit country or manufacturer
 *   code then a 12-digit national id (ISO 11784:1996 §6; e.g. 982 = a manufacturer code, 156 = China).
 * - UHF EPC (ISO 18000-63 / EPC Gen2): the EPC memory bank as hex. Gen2 sizes it in 16-bit words (the PC word's
 *   length field, EPC Gen2 v2 §6.3.2.1.2.2), so a whole number of 4-hex-digit words, 1 to 31 of them.
 * EPC hex is case-insensitive: it is kept upper-case, so one tag read by two readers is one tag.
 */
export type TagScheme = 'fdx-b' | 'epc';

export type ParsedTag = { ok: true; tag: string; scheme: TagScheme } | { ok: false; reason: string };

const FDX_B = /^\d{15}$/;
const EPC = /^(?:[0-9A-Fa-f]{4}){1,31}$/;

export function parseTag(raw: unknown): ParsedTag {
  if (typeof raw !== 'string') return { ok: false, reason: `a tag is a string, got ${raw === null ? 'null' : typeof raw}` };
  if (FDX_B.test(raw)) return { ok: true, tag: raw, scheme: 'fdx-b' };
  if (EPC.test(raw)) return { ok: true, tag: raw.toUpperCase(), scheme: 'epc' };
  const shown = JSON.stringify(raw.slice(0, 40));
  return { ok: false, reason: `${shown} is neither an FDX-B number (15 digits) nor a UHF EPC (hex, a multiple of 4 digits, up to 124)` };
}

export function tagScheme(tag: string): TagScheme {
  return FDX_B.test(tag) ? 'fdx-b' : 'epc';
}
