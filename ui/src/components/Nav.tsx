import { routeHref, type Route } from '../hooks/useHashRoute.js';
import { useEventsConnected } from '../hooks/useServerEvents.js';

const LINKS: { label: string; route: Route; matches: Route['page'][] }[] = [
  { label: 'Catalog', route: { page: 'catalog' }, matches: ['catalog', 'app'] },
  { label: 'Models', route: { page: 'models' }, matches: ['models'] },
  { label: 'Recipe editor', route: { page: 'editor' }, matches: ['editor'] },
  { label: 'Doctor', route: { page: 'doctor' }, matches: ['doctor'] },
  { label: 'Cluster', route: { page: 'cluster' }, matches: ['cluster'] },
  { label: 'Settings', route: { page: 'settings' }, matches: ['settings'] },
];

export function Nav({ route }: { route: Route }) {
  const connected = useEventsConnected();
  return (
    <nav className="nav" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ◉
        </span>{' '}
        Orchard
      </div>
      <ul>
        {LINKS.map((link) => (
          <li key={link.label}>
            <a href={routeHref(link.route)} aria-current={link.matches.includes(route.page) ? 'page' : undefined}>
              {link.label}
            </a>
          </li>
        ))}
      </ul>
      <div className={`connection ${connected ? 'ok' : 'down'}`} role="status">
        {connected ? 'Live' : 'Reconnecting…'}
      </div>
    </nav>
  );
}
