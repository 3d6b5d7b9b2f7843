import type { SiteViewT, ZoneViewT } from '../../schemas.js';
import { esc } from '../dom.js';
import { t, named } from '../i18n.js';
import { networkChains } from '../network.js';

/**
 * The drainage network as a drainage engineer reads it: each chain of pipes from upstream to the sump, every node
 * with its fill (a bar that runs past 100 % when the pipe is surcharged), grade, water level in metres, flow and
 * whether its sensor is online; a sump with its pump's state. Values are bound live (bind.ts `net-node`).
 */
function node(site: SiteViewT, zone: ZoneViewT): string {
  const sensor = zone.devices.find((d) => d.role === 'sensor');
  const pump = zone.devices.find((d) => d.role === 'actuator' && d.type === 'pump');
  const id = esc(zone.id);
  const pumpPart = pump
    ? `<span class="net-pump" data-part="pump" data-pump="${esc(pump.id)}" data-testid="net-pump-${esc(pump.id)}"><span class="label">${esc(t('wall.pump'))}</span> <b data-part="pump-state">—</b></span>`
    : '';
  return `<a class="net-node" href="#/history/${esc(sensor?.id ?? '')}/fill" data-bind="net-node" data-site="${esc(site.id)}" data-zone="${id}" data-device="${esc(sensor?.id ?? '')}" data-testid="net-${id}">
      <span class="net-name">${esc(named(zone))}</span>
      <span class="net-bar"><span class="net-fill" data-part="bar"></span><span class="net-full" aria-hidden="true"></span></span>
      <span class="net-main"><b class="net-pct" data-part="fill" data-testid="net-${id}-fill">—</b> <span class="grade" data-part="grade" data-testid="net-${id}-grade"></span></span>
      <span class="net-surcharge" data-part="surcharge" data-testid="net-${id}-surcharge" hidden></span>
      <span class="net-facts"><span><span class="label">${esc(t('wall.level'))}</span> <b data-part="level" data-testid="net-${id}-level">—</b> m</span><span data-part="flow-wrap"><span class="label">${esc(t('wall.flow'))}</span> <b data-part="flow" data-testid="net-${id}-flow">—</b> m³/h</span></span>
      ${pumpPart}
      <span class="presence" data-part="presence" data-testid="net-${id}-presence"></span>
    </a>`;
}

/** The network of a site; `extra` goes after the chains, in the space the short ones leave (the wall's rain gauges). */
export function networkDiagram(site: SiteViewT, extra = ''): string {
  const chains = networkChains(site.zones);
  if (chains.length === 0) return '';
  const byId = new Map(site.zones.map((z) => [z.id, z]));
  const rows = chains
    .map((c) => {
      const nodes = c.zones.map((id) => node(site, byId.get(id)!)).join('<span class="net-arrow" aria-hidden="true">→</span>');
      const into = c.into
        ? `<span class="net-into">${esc(t('wall.into', { zone: named(byId.get(c.into)) }))}</span>`
        : `<span class="net-into net-outlet">${esc(t('wall.outlet'))}</span>`;
      return `<li class="net-chain">${nodes}${into}</li>`;
    })
    .join('');
  return `<section class="network" data-testid="network-${esc(site.id)}" aria-label="${esc(t('wall.network'))}"><ol class="net-chains">${rows}${extra ? `<li class="net-extra">${extra}</li>` : ''}</ol></section>`;
}
