import { lazy, Suspense } from 'react';
import { Nav } from './components/Nav.js';
import { SkeletonRows } from './components/Skeleton.js';
import { useHashRoute } from './hooks/useHashRoute.js';
import { AppPage } from './pages/AppPage.js';
import { CatalogPage } from './pages/CatalogPage.js';
import { ClusterPage } from './pages/ClusterPage.js';
import { DoctorPage } from './pages/DoctorPage.js';
import { LibraryPage } from './pages/LibraryPage.js';
import { ModelsPage } from './pages/ModelsPage.js';
import { SettingsPage } from './pages/SettingsPage.js';

// The recipe editor (CodeMirror and the schema tooling, about half the code) loads on first visit only.
const EditorPage = lazy(() => import('./pages/EditorPage.js').then((m) => ({ default: m.EditorPage })));

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
        {route.page === 'editor' && (
          <Suspense fallback={<SkeletonRows rows={6} label="Loading the recipe editor" />}>
            <EditorPage key={route.recipe ?? ''} {...(route.recipe ? { recipe: route.recipe } : {})} />
          </Suspense>
        )}
        {route.page === 'settings' && <SettingsPage />}
        {route.page === 'cluster' && <ClusterPage />}
        {route.page === 'models' && <ModelsPage />}
      </main>
    </div>
  );
}
