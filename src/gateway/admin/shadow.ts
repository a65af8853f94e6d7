/** `GET /admin/shadow`: the policy's mode and what it would have done in shadow mode, with the accounts it would have acted on most. */
import type { ShadowTally } from '../shadow.js';
import { json, type AdminAnswer } from './http.js';

export interface ShadowRouteDeps {
  shadow(): { mode: 'enforce' | 'shadow' } & ReturnType<ShadowTally['view']>;
}

export function shadowView(deps: ShadowRouteDeps): AdminAnswer {
  return json(200, deps.shadow());
}
