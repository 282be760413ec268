/**
 * Wires the worker client to the store and the page: worker messages into the store, acks after the
 * frame that shows a result (backpressure), the selection and URL following the view, the worker's
 * expiry fallback mirrored into the link, a fresh snapshot on tab return, history flushed on pagehide,
 * saved figures shown when none come.
 */
import { SAVED_FIGURES_AFTER_MS, type GexStore } from './store.ts';
import type { WorkerClient } from './worker-client.ts';
import { expiryLabel, sameSelection, toSelection, viewToSearch, type ViewState } from './url.ts';
import type { ExpiryFallback, FromWorker } from '../worker/protocol.ts';

export interface BridgeOptions {
  /** Update the address bar as the view changes (off in tests). */
  syncUrl?: boolean;
  win?: Window;
}

export function connectBridge(client: WorkerClient, store: GexStore, opts: BridgeOptions = {}): () => void {
  const win = opts.win ?? window;
  const doc = win.document;
  const actions = store.getState().actions;
  let ackSeq: number | null = null;
  let rafId: number | null = null;

  // Ack once the frame that contains the result has been produced: the worker then holds at most one
  // newer result, so a slow or hidden page never queues stale frames.
  const flushAck = () => {
    rafId = null;
    if (ackSeq !== null) client.ack(ackSeq);
    ackSeq = null;
  };

  // The worker decides what replaces gone expiries; the page says so and puts it in the link.
  const mirrorFallback = (f: ExpiryFallback) => {
    if (!sameSelection(f.selection, toSelection(store.getState().view))) return; // in flight from an older view
    // Every selected one gone: the worker shows the next listed expiry, which is the nearest live one.
    const kept = f.showing.some((x) => f.selection.expiries.includes(x));
    const labels = f.showing.map(expiryLabel).join(', ');
    const showing = f.showing.length === 0 ? 'none listed' : kept ? labels : `nearest live expiry ${labels}`;
    for (const g of f.gone) actions.addNotice('warn', `expiry ${expiryLabel(g.expiryMs)} ${g.why === 'expired' ? 'has expired' : 'is not listed'}; showing ${showing}`);
    actions.setView({ expiries: f.showing });
  };

  const onMessage = (msg: FromWorker) => {
    if (msg.type === 'expiryFallback') {
      mirrorFallback(msg);
      return;
    }
    actions.applyMessage(msg);
    if (msg.type === 'result') {
      ackSeq = msg.seq;
      if (rafId === null) rafId = win.requestAnimationFrame(flushAck);
    }
  };
  const unsubscribe = client.subscribe(onMessage);
  const unStatus = client.onStatus((s) => actions.setWorkerRestarts(s.restarts));
  actions.setWorkerRestarts(client.status().restarts);

  let selection = toSelection(store.getState().view);
  client.select(selection);
  let lastSearch = '';
  const writeUrl = (view: ViewState) => {
    if (!opts.syncUrl) return;
    const search = `?${viewToSearch(view)}`;
    if (search === lastSearch && win.location.search === search) return;
    lastSearch = search;
    win.history.replaceState(null, '', `${win.location.pathname}${search}${win.location.hash}`);
  };
  writeUrl(store.getState().view);
  // No figures soon after a view starts (offline, the venue unreachable): its saved ones, marked as such.
  let savedTimer: number | null = null;
  const showSavedLater = () => {
    if (savedTimer !== null) win.clearTimeout(savedTimer);
    savedTimer = win.setTimeout(() => {
      savedTimer = null;
      actions.showSavedFigures();
    }, SAVED_FIGURES_AFTER_MS);
  };
  showSavedLater();
  const unView = store.subscribe((s, prev) => {
    if (s.view === prev.view) return;
    if (s.result === null) showSavedLater();
    const next = toSelection(s.view);
    if (!sameSelection(next, selection)) {
      selection = next;
      client.select(next);
    }
    writeUrl(s.view);
  });

  // Hidden tabs are throttled: on return ask for the newest figures instead of painting an old frame.
  const onVisible = () => {
    if (doc.visibilityState !== 'visible') {
      void actions.flushHistory();
      return;
    }
    client.request({ kind: 'snapshot' }).then(
      (result) => {
        if (result) onMessage(result);
      },
      () => undefined,
    );
  };
  const onPageHide = () => void actions.flushHistory();
  doc.addEventListener('visibilitychange', onVisible);
  win.addEventListener('pagehide', onPageHide);

  return () => {
    unsubscribe();
    unStatus();
    unView();
    doc.removeEventListener('visibilitychange', onVisible);
    win.removeEventListener('pagehide', onPageHide);
    if (rafId !== null) win.cancelAnimationFrame(rafId);
    if (savedTimer !== null) win.clearTimeout(savedTimer);
  };
}
