/** Shown when the page was opened without the token (e.g. a bookmark in a new tab). */
export function NoToken() {
  return (
    <main className="page narrow">
      <h1>Orchard needs its access link</h1>
      <p>
        This page talks to the local Orchard server, which only answers requests that carry its token. Open the link that{' '}
        <code>orchard serve</code> printed in your terminal (it ends in <code>#token=…</code>), or start Orchard with <code>npm start</code>.
      </p>
    </main>
  );
}
