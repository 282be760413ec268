/** The store's React binding: the store itself (store.ts) is framework-free. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { GexState, GexStore } from './store.ts';

export const GexStoreContext = createContext<GexStore | null>(null);

/** Narrow selector hook: `const spot = useGex((s) => s.result?.gex.spot)`. */
export function useGex<T>(selector: (s: GexState) => T): T {
  const store = useContext(GexStoreContext);
  if (!store) throw new Error('GexStoreContext missing');
  return useStore(store, selector);
}

/** The store itself, for transient subscriptions and actions. */
export function useGexStoreApi(): GexStore {
  const store = useContext(GexStoreContext);
  if (!store) throw new Error('GexStoreContext missing');
  return store;
}
