/** A catalog entry as tools and resources show it: id, the surfaces this server can call, owner label. */
import type { ModelEntry } from '../ezrouter/catalog.js';

export interface PublicModel {
  id: string;
  surfaces: string[];
  owned_by?: string;
}

export function publicModel(m: ModelEntry): PublicModel {
  return m.owned_by === undefined ? { id: m.id, surfaces: [...m.surfaces] } : { id: m.id, surfaces: [...m.surfaces], owned_by: m.owned_by };
}
