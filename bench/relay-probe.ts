/**
 * The relay bench's latency probe (bench/relay.bench.ts), a process of its own: the 200 load screens
 * share one busy Node process whose own queue would be timed with the relay's, so relay-added latency is
 * measured here instead, by a monitor on the simulator and one screen per timed view on each relay
 * process, in a process that does little else. Reads its task as JSON on stdin
 * (`{simWs, relays: string[], views: ViewJson[], warmMs, spanMs}`), writes `{lat: number[]}` on stdout.
 */
import type WebSocket from 'ws';
import { openView, timed, viewFromJson, type ViewJson } from './relay-views.ts';

interface Task {
  simWs: string;
  relays: string[];
  views: ViewJson[];
  warmMs: number;
  spanMs: number;
}

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const task = JSON.parse(input) as Task;
  const views = task.views.map(viewFromJson).filter(timed);
  const seenAt = new Map<string, number>();
  const lat: number[] = [];
  let measuring = false;
  const sockets: WebSocket[] = [];
  for (const v of views) sockets.push(...openView(task.simWs, v, (text, at) => void (seenAt.has(text) || seenAt.set(text, at))));
  for (const relay of task.relays) {
    for (const v of views) {
      sockets.push(...openView(relay, v, (text, at) => {
        const s = seenAt.get(text);
        if (measuring && s !== undefined && lat.length < 500_000) lat.push(at - s);
      }));
    }
  }
  const sweep = setInterval(() => seenAt.size > 200_000 && seenAt.clear(), 1_000);
  await new Promise((r) => setTimeout(r, task.warmMs));
  measuring = true;
  await new Promise((r) => setTimeout(r, task.spanMs));
  measuring = false;
  clearInterval(sweep);
  for (const s of sockets) s.terminate();
  // stdout to a pipe is written asynchronously: exit once it is out
  process.stdout.write(JSON.stringify({ lat: lat.map((x) => Math.round(x * 100) / 100) }) + '\n', () => process.exit(0));
}

void main();
