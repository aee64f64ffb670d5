import { BookOpen, Boxes, FileCode2, LibraryBig, Network, Settings, Stethoscope, type LucideIcon } from 'lucide-react';
import { routeHref, type Route } from '../hooks/useHashRoute.js';
import { useEventsConnected } from '../hooks/useServerEvents.js';

/** The main navigation; the Library comes first. Another page is one more line in this table. */
export const NAV_LINKS: { label: string; route: Route; matches: Route['page'][]; icon: LucideIcon }[] = [
  { label: 'Library', route: { page: 'library' }, matches: ['library', 'app'], icon: LibraryBig },
  { label: 'Catalog', route: { page: 'catalog' }, matches: ['catalog'], icon: BookOpen },
  { label: 'Models', route: { page: 'models' }, matches: ['models'], icon: Boxes },
  { label: 'Recipe editor', route: { page: 'editor' }, matches: ['editor'], icon: FileCode2 },
  { label: 'Doctor', route: { page: 'doctor' }, matches: ['doctor'], icon: Stethoscope },
  { label: 'Cluster', route: { page: 'cluster' }, matches: ['cluster'], icon: Network },
  { label: 'Settings', route: { page: 'settings' }, matches: ['settings'], icon: Settings },
];

export function Nav({ route }: { route: Route }) {
  const connected = useEventsConnected();
  return (
    <nav className="nav" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          ◉
        </span>
        <span className="nav-label">Orchard</span>
      </div>
      <ul>
        {NAV_LINKS.map((link) => (
          <li key={link.label}>
            <a href={routeHref(link.route)} aria-current={link.matches.includes(route.page) ? 'page' : undefined} title={link.label}>
              <link.icon size={18} aria-hidden="true" />
              <span className="nav-label">{link.label}</span>
            </a>
          </li>
        ))}
      </ul>
      <div className={`connection ${connected ? 'ok' : 'down'}`} role="status">
        <span className="nav-label">{connected ? 'Live' : 'Reconnecting…'}</span>
      </div>
    </nav>
  );
}
