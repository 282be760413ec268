/** Raw HTTP for the server's security tests (not shipped): any method, path as is, any Host header. */
import http from 'node:http';
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with the path sent exactly as given (fetch normalises it and will not set Host). */
export function rawRequest(url: string, o: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: o.method ?? 'GET', path: o.path, headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** An answer whose head (status line and headers) is all in: enough to judge an upgrade the server keeps open. */
export const headEnded = (got: string): boolean => got.includes('\r\n\r\n');

/**
 * Bytes written on a plain socket; resolves with whatever came back once `enough` says so (e.g.
 * `headEnded`), or the server closed it, or `ms` passed.
 */
export function rawSocket(url: string, bytes: string, ms = 2_000, enough: (got: string) => boolean = () => false): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(Number(u.port), u.hostname, () => s.write(bytes));
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (enough(got)) done();
    });
    s.on('close', done);
    s.on('error', done);
  });
}
