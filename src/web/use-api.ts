/** Loads an API path when a page opens (and again when `reload` changes). */
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiResult } from './api.js';

export function useApi<T>(path: string | null, reload = 0): ApiResult<T> | null {
  const [r, setR] = useState<ApiResult<T> | null>(null);
  useEffect(() => {
    setR(null);
    if (path === null) return;
    let live = true;
    api<T>(path).then((x) => live && setR(x), (e: Error) => live && setR({ ok: false, status: 0, message: e.message }));
    return () => {
      live = false;
    };
  }, [path, reload]);
  return r;
}
