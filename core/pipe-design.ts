/**
 * Design depth of a drainage pipe, for limits that fit each pipe instead of one fill grade for all.
 *
 * GB 50014-2021 (Standard for design of outdoor wastewater engineering, 室外排水设计标准) limits the design fill
 * (充满度: flow depth / diameter) of sewage pipes by diameter, leaving head room for ventilation and peaks:
 * 200-300 mm 0.55, 350-450 mm 0.65, 500-900 mm 0.70, 1000 mm and more 0.75 (最大设计充满度). Storm and combined
 * pipes are designed to run full (按满流计算), so their design depth is the diameter itself.
 * Pure: no I/O.
 */
export type SewerKind = 'sewage' | 'storm' | 'combined';

export const SEWER_KINDS: readonly SewerKind[] = ['sewage', 'storm', 'combined'];

export function designFill(kind: SewerKind, diameterM: number): number {
  if (kind !== 'sewage') return 1;
  const mm = Math.round(diameterM * 1000);
  if (mm <= 300) return 0.55;
  if (mm <= 450) return 0.65;
  if (mm <= 900) return 0.7;
  return 0.75;
}

export interface PipeDesign {
  kind: SewerKind;
  diameterM: number;
  /** Largest design depth / diameter (GB 50014). */
  designFill: number;
  /** The flow depth the pipe is designed not to exceed, m. */
  designDepthM: number;
}

/** A pipe's design from its farm-file attributes: `diameterM` (or `diameterMm`) and `sewer` (default storm). */
export function pipeDesign(attributes: Record<string, string | number | boolean> | undefined): PipeDesign | undefined {
  if (!attributes) return undefined;
  const diameterM =
    typeof attributes.diameterM === 'number' ? attributes.diameterM : typeof attributes.diameterMm === 'number' ? attributes.diameterMm / 1000 : undefined;
  if (diameterM === undefined || !(diameterM > 0)) return undefined;
  const kind = SEWER_KINDS.includes(attributes.sewer as SewerKind) ? (attributes.sewer as SewerKind) : 'storm';
  const fill = designFill(kind, diameterM);
  return { kind, diameterM, designFill: fill, designDepthM: Math.round(fill * diameterM * 1000) / 1000 };
}
