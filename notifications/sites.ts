import type { FarmConfigT } from '../core/config/schema.js';
import type { FarmIndex } from '../core/farm-index.js';
import { localText, type Language } from '../core/local-text.js';
import type { MessageContext } from './message.js';

/** What a message needs to know about a site: its language, its time zone and the names people know its places by. */
export function messageContextFor(config: Pick<FarmConfigT, 'sites'>, farm: FarmIndex, siteId: string, publicUrl: string | undefined): MessageContext {
  const site = config.sites.find((s) => s.id === siteId);
  const language: Language = site?.language ?? 'en';
  return {
    language,
    timeZone: farm.timeZone(siteId),
    publicUrl,
    siteName: localText(site?.name, language) ?? siteId,
    zoneName: (zone) => localText(farm.zone(siteId, zone)?.config.name, language) ?? zone,
    deviceName: (device) => localText(farm.device(device)?.config.name, language) ?? device,
  };
}
