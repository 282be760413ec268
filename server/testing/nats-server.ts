/**
 * A NATS server for tests: Debian's `nats-server` (/usr/sbin/nats-server, or on PATH) with JetStream,
 * on a free port of 4330-4349 and a store directory of its own, killed by `stop()`. Missing, it fails
 * with what to install (`.ci/run` installs it), never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const NATS_PORTS = { from: 4330, to: 4349 };

export interface RunningNats {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function natsServerPath(dirs = ['/usr/sbin', ...(process.env.PATH ?? '').split(delimiter)]): string {
  const found = dirs.map((d) => join(d, 'nats-server')).find((p) => existsSync(p));
  if (!found) throw new Error("nats-server not found (in /usr/sbin or on PATH): the NATS tests need Debian's nats-server package (apt-get install -y nats-server; .ci/run installs it)");
  return found;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * `args`: more of nats-server's flags (`--user`, `--pass`, `--tls --tlscert F --tlskey F`); with `--tls`
 * the URL is `tls://`.
 */
export async function startNats(args: string[] = []): Promise<RunningNats> {
  const bin = natsServerPath();
  for (let port = NATS_PORTS.from; port <= NATS_PORTS.to; port++) {
    if (!(await portFree(port))) continue;
    const store = mkdtempSync(join(tmpdir(), 'gexdesk-nats-'));
    const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      const timer = setTimeout(() => resolve(false), 10_000);
      const read = (b: Buffer) => {
        out += b.toString();
        if (/Server is ready/.test(out)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      await kill(child);
      rmSync(store, { recursive: true, force: true });
      continue; // taken meanwhile: the next port
    }
    return {
      url: `${args.includes('--tls') ? 'tls' : 'nats'}://127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      stop: async () => {
        await kill(child);
        rmSync(store, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`no free port for nats-server in ${NATS_PORTS.from}-${NATS_PORTS.to}`);
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
