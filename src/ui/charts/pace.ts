/**
 * Charts take each new result one chart per task, in turn: charts that update together would otherwise
 * make one task of all their redraws however their render is scheduled (useDeferredValue included), and
 * a flood of results would block input. Paced, each task holds one chart's whole redraw (React's commit
 * and its canvas) and input runs between them.
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
 * rather than on the store update itself; newer values replace a waiting one. With `everyMs`, at most
 * one value that often (the latest when the time comes): for dense tables nobody reads at 4 Hz.
 */
export function usePacedGex<T>(select: (s: GexState) => T, everyMs = 0): T {
  const store = useGexStoreApi();
  const [value, setValue] = useState(() => select(store.getState()));
  useEffect(() => {
    const key = {};
    let latest: T | undefined;
    let lastAt = -Infinity;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const hand = () => {
      const v = latest as T;
      // The first figures are shown at once; the interval runs from them.
      if (v !== null && v !== undefined) lastAt = performance.now();
      pacer.request(key, () => setValue(() => v));
    };
    const take = (s: GexState) => {
      const v = select(s);
      if (Object.is(v, latest)) return;
      latest = v;
      const wait = lastAt + everyMs - performance.now();
      if (wait <= 0) hand();
      else timer ??= setTimeout(() => {
        timer = null;
        hand();
      }, wait);
    };
    // Also catches a change between the first render and this subscription (setValue bails if same).
    take(store.getState());
    const unsubscribe = store.subscribe(take);
    return () => {
      unsubscribe();
      pacer.cancel(key);
      if (timer !== null) clearTimeout(timer);
    };
  }, [store, select, everyMs]);
  return value;
}

/** Stable selectors for usePacedGex. */
export const selectResult = (s: GexState) => s.result;
/** What the views show: the past minute the scrubber picked, else the live result. */
export const selectShown = (s: GexState) => s.past?.result ?? s.result;
export const selectShownGex = (s: GexState) => (s.past?.result ?? s.result)?.gex ?? null;
export const selectHistory = (s: GexState) => s.history;
