/**
 * The thin worker entry: real clock, the browser's WebSocket, postMessage with a transfer list.
 * Everything else lives in EngineHost, which does not know it runs here.
 */
import type { Clock, SocketLike } from '../feeds/adapter.ts';
import { EngineHost } from './host.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
  postMessage(msg: FromWorker, transfer: Transferable[]): void;
  location: { protocol: string; host: string };
}
const scope = self as unknown as WorkerScope;

const clock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const host = new EngineHost({
  clock,
  socketFactory: (url) => new WebSocket(url) as unknown as SocketLike,
  // Same origin as the page by default; the hello message carries the page's own choice.
  localBase: `${scope.location.protocol === 'https:' ? 'wss' : 'ws'}://${scope.location.host}`,
  post: (msg, transfer) => scope.postMessage(msg, transfer),
});

scope.onmessage = (ev) => host.handle(ev.data);
