import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { setApiToken } from './api/client.js';
import { events } from './api/events.js';
import { loadToken } from './api/token.js';
import { NoToken } from './pages/NoToken.js';
import './styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);

void loadToken().then((token) => {
  if (!token) {
    root.render(<NoToken />);
    return;
  }
  setApiToken(token);
  events.start();
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
