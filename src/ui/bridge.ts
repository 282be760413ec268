/**
 * Wires the worker client to the store and the page: worker messages into the store, acks after the
 * frame that shows a result (backpressure), the selection and URL following the view, expired expiries
 * replaced, a fresh snapshot on tab return, history flushed on pagehide, saved figures shown when none come.
 */
import { SAVED_FIGURES_AFTER_MS, type GexStore } from '../state/store.ts';
import type { WorkerClient } from '../state/worker-client.ts';
import { resolveExpiries, sameSelection, toSelection, viewToSearch, type ViewState } from '../state/url.ts';
import type { FromWorker, ResultMessage } from '../worker/protocol.ts';

export function isResultMessage(x: unknown): x is ResultMessage {
  return typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'result' &&
    typeof (x as { gex?: unknown }).gex === 'object' && typeof (x as { seq?: unknown }).seq === 'number';
}

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

  const fixExpiries = (msg: ResultMessage) => {
    const view = store.getState().view;
    if (view.expiries.length === 0 || msg.expiries.length === 0) return;
    if (msg.selection.currency !== view.currency) return;
    const r = resolveExpiries(view.expiries, msg.expiries);
    if (!r.changed) return;
    for (const n of r.notices) actions.addNotice('warn', n);
    actions.setView({ expiries: r.expiries });
  };

  const onMessage = (msg: FromWorker) => {
    // The page itself replaces an expired selected expiry and says so (fixExpiries): skip the worker's
    // own notice for the same event so the user reads it once.
    if (msg.type === 'notice' && /^expiry \S+ has expired/.test(msg.message)) return;
    actions.applyMessage(msg);
    if (msg.type === 'result') {
      fixExpiries(msg);
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
      actions.flushHistory();
      return;
    }
    client.request({ kind: 'snapshot' }).then(
      (data) => {
        if (isResultMessage(data)) onMessage(data);
      },
      () => undefined,
    );
  };
  const onPageHide = () => actions.flushHistory();
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
