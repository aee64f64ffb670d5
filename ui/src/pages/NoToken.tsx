import { KeyRound } from 'lucide-react';

/** Shown when this browser has no session: no link was opened yet, or the link was wrong or used. */
export function NoToken({ problem }: { problem?: string }) {
  return (
    <main className="page narrow no-access">
      <h1>
        <KeyRound aria-hidden="true" /> {problem ? 'This access link did not work' : 'Orchard needs its access link'}
      </h1>
      {problem && (
        <p className="error-box" role="alert">
          {problem}
        </p>
      )}
      <p>
        This page talks to the local Orchard server, which only answers this browser once it has opened an access link. Run{' '}
        <code>orchard open</code> in a terminal for a fresh one (or use the link <code>orchard serve</code> printed). After that, other
        tabs, bookmarks and reloads work on their own.
      </p>
    </main>
  );
}
