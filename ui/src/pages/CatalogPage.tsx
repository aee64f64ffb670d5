import type { CatalogResponse } from '../../../engine/api/api-types.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { RecipeCard } from '../components/RecipeCard.js';
import { SkeletonCards } from '../components/Skeleton.js';
import { useApiQuery } from '../hooks/useApiQuery.js';

export function CatalogPage() {
  const catalog = useApiQuery<CatalogResponse>('/catalog');
  const recipes = catalog.data?.recipes ?? [];
  const bundled = recipes.filter((r) => r.source === 'bundled');
  const user = recipes.filter((r) => r.source === 'user');
  return (
    <>
      <header className="page-header">
        <h1>Catalog</h1>
        <div className="actions">
          <a className="button secondary" href="#/editor">
            New recipe
          </a>
          <button type="button" className="secondary" onClick={catalog.reload}>
            Refresh
          </button>
        </div>
      </header>
      <ErrorBox error={catalog.error} />
      {!catalog.data && !catalog.error && <SkeletonCards cards={6} label="Loading the catalog" />}
      {catalog.data && (
        <>
          <section aria-labelledby="bundled-title">
            <h2 id="bundled-title" className="section-title">
              Bundled apps <span className="count">{bundled.length}</span>
            </h2>
            {bundled.length === 0 ? <p className="muted">No bundled recipes found.</p> : <CardGrid entries={bundled} />}
          </section>
          <section aria-labelledby="user-title">
            <h2 id="user-title" className="section-title">
              Your recipes <span className="count">{user.length}</span>
            </h2>
            {user.length === 0 ? (
              <p className="muted">
                Recipes you save in the <a href="#/editor">recipe editor</a> appear here.
              </p>
            ) : (
              <CardGrid entries={user} />
            )}
          </section>
          {catalog.data.problems.length > 0 && (
            <section aria-labelledby="problems-title">
              <h2 id="problems-title" className="section-title">
                Recipes that could not be read
              </h2>
              {catalog.data.problems.map((problem) => (
                <div key={problem.file}>
                  <code>{problem.file}</code>
                  <ErrorBox error={problem.error} />
                </div>
              ))}
            </section>
          )}
        </>
      )}
    </>
  );
}

function CardGrid({ entries }: { entries: CatalogResponse['recipes'] }) {
  return (
    <div className="card-grid">
      {/* One card per model: the other engines of a model are linked from its preferred entry. */}
      {entries
        .filter((entry) => entry.model?.preferred !== false)
        .map((entry) => (
          <RecipeCard key={`${entry.source}:${entry.id}`} entry={entry} />
        ))}
    </div>
  );
}
