import { useEffect, useState } from 'react';

/** A route parsed from the hash (`#/apps/llm-demo`). Hash routing needs no server fallback route. */
export type Route =
  | { page: 'library' }
  | { page: 'catalog' }
  | { page: 'app'; id: string }
  | { page: 'doctor' }
  | { page: 'editor'; recipe?: string }
  | { page: 'settings' }
  | { page: 'cluster' }
  | { page: 'models' };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  switch (parts[0]) {
    case 'library':
      return { page: 'library' };
    case 'catalog':
      return { page: 'catalog' };
    case 'apps':
      return parts[1] ? { page: 'app', id: parts[1] } : { page: 'catalog' };
    case 'doctor':
      return { page: 'doctor' };
    case 'editor': {
      const recipe = params.get('recipe');
      return recipe ? { page: 'editor', recipe } : { page: 'editor' };
    }
    case 'settings':
      return { page: 'settings' };
    case 'cluster':
      return { page: 'cluster' };
    case 'models':
      return { page: 'models' };
    default:
      return { page: 'library' };
  }
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case 'app':
      return `#/apps/${encodeURIComponent(route.id)}`;
    case 'editor':
      return route.recipe ? `#/editor?recipe=${encodeURIComponent(route.recipe)}` : '#/editor';
    default:
      return `#/${route.page}`;
  }
}

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
