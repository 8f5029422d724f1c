import { useEffect, useState } from 'preact/hooks';

/** Pages live in the hash (`#/explore?user=u1`), so every view is a link and the server serves one file. */
export interface Route {
  page: string;
  params: URLSearchParams;
}

function parse(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [page, search = ''] = hash.split('?');
  return { page: page || 'overview', params: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const update = (): void => setRoute(parse());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** Changes the current page's parameters (replacing history, so typing does not flood Back). */
export function setParams(page: string, params: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(null, '', `#/${page}${s ? `?${s}` : ''}`);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
