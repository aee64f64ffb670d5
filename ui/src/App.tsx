import { Nav } from './components/Nav.js';
import { useHashRoute } from './hooks/useHashRoute.js';
import { AppPage } from './pages/AppPage.js';
import { CatalogPage } from './pages/CatalogPage.js';
import { DoctorPage } from './pages/DoctorPage.js';
import { EditorPage } from './pages/EditorPage.js';
import { LibraryPage } from './pages/LibraryPage.js';
import { SettingsPage } from './pages/SettingsPage.js';

export function App() {
  const route = useHashRoute();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Nav route={route} />
      <main id="main" className="page" tabIndex={-1}>
        {route.page === 'library' && <LibraryPage />}
        {route.page === 'catalog' && <CatalogPage />}
        {route.page === 'app' && <AppPage key={route.id} id={route.id} />}
        {route.page === 'doctor' && <DoctorPage />}
        {route.page === 'editor' && <EditorPage key={route.recipe ?? ''} {...(route.recipe ? { recipe: route.recipe } : {})} />}
        {route.page === 'settings' && <SettingsPage />}
      </main>
    </div>
  );
}
