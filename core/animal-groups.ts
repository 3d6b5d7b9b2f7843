/**
 * Heat-stress bands of the sheep temperature-humidity index per animal group (a shed zone's `animalGroup`).
 *
 * Adult ewes: the bands of Marai et al. 2007 (Small Ruminant Research 71:1-12) for THI = t − (0.31 − 0.31·RH)(t −
 * 14.4): < 22.2 absence of heat stress, 22.2-23.3 moderate, 23.3-25.6 severe, ≥ 25.6 extreme.
 * Lambs regulate their temperature less well and show heat stress earlier: weaned lambs' respiration, intake and
 * growth turn at lower THI than adults' in climate-chamber trials (Zhao Shoupei et al. 2023, Trans. CSAE 39(23):212-
 * 219, "The threshold of occurrence of heat stress in weaned lambs", Small-tailed Han × Dorper lambs). Rams:
 * moderate heat already lowers semen quality and fertility for weeks (van Wettere et al. 2021, J. Anim. Sci.
 * Biotechnol. 12, doi:10.1186/s40104-020-00537-z, review). Neither gives
 * bands on Marai's scale, so the lamb and ram bands here are Marai's moved down by one THI unit: a farm
 * assumption, named as such, to be replaced by the farm's own observations.
 * Hu sheep (湖羊) are the Taihu-basin breed the demo farm keeps; no Hu-specific bands on this scale were found.
 */
export type AnimalGroup = 'ewes' | 'lambs' | 'rams';

export const ANIMAL_GROUPS: readonly AnimalGroup[] = ['ewes', 'lambs', 'rams'];

export interface ThiBands {
  /** Upper limit of comfort: heat load counts above it (moderate heat stress starts here). */
  comfort: number;
  severe: number;
  extreme: number;
}

const MARAI_2007: ThiBands = { comfort: 22.2, severe: 23.3, extreme: 25.6 };
const ONE_UNIT_EARLIER: ThiBands = { comfort: 21.2, severe: 22.3, extreme: 24.6 };

export const THI_BANDS: Readonly<Record<AnimalGroup, ThiBands>> = {
  ewes: MARAI_2007,
  lambs: ONE_UNIT_EARLIER,
  rams: ONE_UNIT_EARLIER,
};

/** The bands of a shed zone's group; a zone without (or with an unknown) `animalGroup` gets the adult ewes' bands. */
export function thiBands(attributes: Record<string, string | number | boolean> | undefined): ThiBands {
  const group = attributes?.animalGroup;
  return ANIMAL_GROUPS.includes(group as AnimalGroup) ? THI_BANDS[group as AnimalGroup] : MARAI_2007;
}

export type ThiBand = 'none' | 'moderate' | 'severe' | 'extreme';

/** The heat-stress band of a THI for a group's bands (the page shows it next to each shed's THI). */
export function thiBandOf(thi: number, bands: ThiBands): ThiBand {
  if (thi < bands.comfort) return 'none';
  if (thi < bands.severe) return 'moderate';
  if (thi < bands.extreme) return 'severe';
  return 'extreme';
}
