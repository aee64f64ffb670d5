import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { setApiToken } from './api/client.js';
import { events } from './api/events.js';
import { invalidateOnEvents, queryClient } from './api/queries.js';
import { establishAccess } from './api/token.js';
import { NoToken } from './pages/NoToken.js';
import { applyTheme } from './theme.js';
import './styles.css';

applyTheme();
const root = createRoot(document.getElementById('root') as HTMLElement);

void establishAccess().then((access) => {
  if (access.kind === 'none') {
    root.render(<NoToken {...(access.problem ? { problem: access.problem } : {})} />);
    return;
  }
  if (access.kind === 'token') setApiToken(access.token);
  events.start();
  invalidateOnEvents();
  root.render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
});
