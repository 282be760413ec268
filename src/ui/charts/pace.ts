/**
 * Charts take each new result one chart per task, in turn. recharts finishes a chart's redraw in
 * synchronous store updates right after the chart commits, so charts that update together make one
 * long task however their render is scheduled (useDeferredValue included): a flood of results then
 * blocks input. Paced, each task holds one chart's whole redraw and input runs between them.
 */
import { useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { useGexStoreApi } from '../../state/react.ts';
import type { GexState } from '../../state/store.ts';
import { createPacer } from '../pacer.ts';

/** A fresh task per turn: a MessageChannel message (not throttled like timers in a hidden tab). */
function postTurn(): (turn: () => void) => void {
  let channel: MessageChannel | null = null;
  let next: (() => void) | null = null;
  return (turn) => {
    next = turn;
    if (typeof MessageChannel === 'undefined') {
      setTimeout(turn, 0);
      return;
    }
    if (!channel) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const t = next;
        next = null;
        t?.();
      };
    }
    channel.port2.postMessage(null);
  };
}

const pacer = createPacer(postTurn(), (job) => flushSync(job));

/**
 * The store value `select` picks (a stable function), handed to this component in its own turn
 * rather than on the store update itself; newer values replace a waiting one.
 */
export function usePacedGex<T>(select: (s: GexState) => T): T {
  const store = useGexStoreApi();
  const [value, setValue] = useState(() => select(store.getState()));
  useEffect(() => {
    const key = {};
    let latest: T | undefined;
    const take = (s: GexState) => {
      const v = select(s);
      if (Object.is(v, latest)) return;
      latest = v;
      pacer.request(key, () => setValue(v));
    };
    // Also catches a change between the first render and this subscription (setValue bails if same).
    take(store.getState());
    const unsubscribe = store.subscribe(take);
    return () => {
      unsubscribe();
      pacer.cancel(key);
    };
  }, [store, select]);
  return value;
}

/** Stable selectors for usePacedGex. */
export const selectResult = (s: GexState) => s.result;
export const selectGex = (s: GexState) => s.result?.gex ?? null;
export const selectHistory = (s: GexState) => s.history;
