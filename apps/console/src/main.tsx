import { ApiClientError } from '@palisade/api-client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app.tsx';
import { SessionProvider, UNAUTHORIZED_EVENT } from './session.tsx';
import './styles.css';

// Refetching on focus keeps an operator's view current without a polling storm from idle tabs.
// A 401 anywhere means the key was revoked or expired: the session ends and the login page says why.
const onError = (err: unknown) => {
  if (err instanceof ApiClientError && err.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
};
const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: { queries: { retry: (n, err) => !(err instanceof ApiClientError && err.status < 500) && n < 1, staleTime: 5_000 } },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
