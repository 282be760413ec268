import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createGexStore } from './state/store.ts';
import { GexStoreContext } from './state/react.ts';
import { parseViewFromSearch } from './state/url.ts';
import { fetchServerInfo } from './state/relay-health.ts';
import { createWorkerClient } from './state/worker-client.ts';
import { App } from './ui/App.tsx';
import { connectBridge } from './state/bridge.ts';
import { WorkerClientContext } from './ui/context.ts';
import { ErrorBoundary } from './ui/ErrorBoundary.tsx';
import './ui/theme.css';

const root = createRoot(document.getElementById('root')!);

/** A page served by a desk relay (`--source live`) uses it unless its link names a source. */
async function servedByRelay(): Promise<boolean> {
  if (new URLSearchParams(location.search).has('source')) return false;
  try {
    return (await fetchServerInfo('', 500)).source === 'live';
  } catch {
    return false; // no local server (a static host) or it did not answer: the default stands
  }
}

function boot(relay: boolean): void {
  const { view, notices } = parseViewFromSearch(location.search);
  if (relay) view.source = 'relay';
  const store = createGexStore({ initialView: view });
  // One box for everything wrong with the link, each problem named.
  if (notices.length > 0) store.getState().actions.addNotice('warn', notices.length === 1 ? notices[0] : `This link had ${notices.length} problems: ${notices.join(' · ')}`);
  const client = createWorkerClient({ localBase: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}` });
  connectBridge(client, store, { syncUrl: true });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });

  if (import.meta.env.DEV) {
    // Test hook (non-production builds only): the latest result and feed health.
    (window as unknown as { __gexdesk: unknown }).__gexdesk = {
      store,
      get result() {
        return store.getState().result;
      },
      get health() {
        return store.getState().feeds;
      },
    };
  }

  root.render(
    <StrictMode>
      <GexStoreContext.Provider value={store}>
        <WorkerClientContext.Provider value={client}>
          <QueryClientProvider client={queryClient}>
            <App />
          </QueryClientProvider>
        </WorkerClientContext.Provider>
      </GexStoreContext.Provider>
    </StrictMode>,
  );
}

/**
 * The service worker of production builds (vite-plugin-pwa, see vite.config.ts): the page can be
 * installed and starts offline from its own files, showing the last figures marked as saved. Registered
 * after load so its download does not compete with the start.
 */
function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e: unknown) => console.warn('gexdesk: no offline start:', e));
  });
}

void servedByRelay().then((relay) => {
  try {
    boot(relay);
    registerServiceWorker();
  } catch (e) {
    // Never a blank screen, even if start-up itself fails (no Worker support, storage blocked, ...).
    root.render(<ErrorBoundary><Crash error={e} /></ErrorBoundary>);
  }
});

function Crash({ error }: { error: unknown }): never {
  throw error instanceof Error ? error : new Error(String(error));
}
