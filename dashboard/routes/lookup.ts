import type { FarmConfigT } from '../../core/config/schema.js';
import type { FarmIndex } from '../../core/farm-index.js';
import { ApiError } from '../errors.js';

/** 404s that name what was not found, for ids given in paths and filters. */
export function requireSite(config: FarmConfigT, site: string): void {
  if (!config.sites.some((s) => s.id === site)) throw new ApiError('NOT_FOUND', `There is no site "${site}". GET /api/sites lists them.`);
}

export function checkDeviceFilter(config: FarmConfigT, farm: FarmIndex, filter: { site?: string; zone?: string; device?: string }): void {
  if (filter.site) requireSite(config, filter.site);
  if (filter.zone && !farm.zones().some((z) => z.zone === filter.zone && (!filter.site || z.site === filter.site)))
    throw new ApiError('NOT_FOUND', `There is no zone "${filter.zone}"${filter.site ? ` in site ${filter.site}` : ''}. GET /api/sites lists them.`);
  if (filter.device && !farm.device(filter.device)) throw new ApiError('NOT_FOUND', `There is no device "${filter.device}". GET /api/sites lists them.`);
}
