/** What every page shows while loading or when the API refused. */
import type { ApiResult } from '../api.js';
import { clearToken } from '../api.js';

export function Pending<T>(props: { r: ApiResult<T> | null; what: string }) {
  if (props.r === null) return <p class="muted">Loading {props.what}…</p>;
  if (props.r.ok) return null;
  if (props.r.status === 401) {
    // A wrong or expired token: ask again rather than show a page of errors.
    clearToken();
    location.reload();
  }
  return <p class="error" role="alert">Cannot load {props.what}: {props.r.message}</p>;
}
