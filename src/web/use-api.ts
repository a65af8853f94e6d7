/** Loads an API path when a page opens (and again when `reload` changes). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiResult } from './api.js';

export function useApi<T>(path: string | null, reload = 0): ApiResult<T> | null {
  const [r, setR] = useState<ApiResult<T> | null>(null);
  const shown = useRef<string | null>(null);
  useEffect(() => {
    // A reload of the same path keeps what is shown until the answer comes, so forms on the page keep their state.
    if (shown.current !== path) setR(null);
    shown.current = path;
    if (path === null) return;
    let live = true;
    api<T>(path).then((x) => live && setR(x), (e: Error) => live && setR({ ok: false, status: 0, message: e.message }));
    return () => {
      live = false;
    };
  }, [path, reload]);
  return r;
}
