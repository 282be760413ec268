/** Static files of the built app with an SPA fallback; paths are confined to the root. */
import { createReadStream, promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400).end('bad path');
    return;
  }
  if (rel.includes('\0')) {
    res.writeHead(400).end('bad path');
    return;
  }
  const abs = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  const rootAbs = path.resolve(root);
  if (abs !== rootAbs && !abs.startsWith(rootAbs + path.sep)) {
    res.writeHead(403).end('forbidden');
    return;
  }
  let file = abs;
  let st = await fsp.stat(file).catch(() => undefined);
  if (st?.isDirectory()) {
    file = path.join(file, 'index.html');
    st = await fsp.stat(file).catch(() => undefined);
  }
  if (!st || !st.isFile()) {
    // SPA fallback: client-side routes get index.html; missing assets stay 404
    if (path.extname(rel) !== '' && !rel.endsWith('.html')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    file = path.join(rootAbs, 'index.html');
    st = await fsp.stat(file).catch(() => undefined);
    if (!st) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found (no index.html in the served folder)');
      return;
    }
  }
  const ext = path.extname(file).toLowerCase();
  const hashed = /\/assets\//.test(file.split(path.sep).join('/'));
  res.writeHead(200, {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'content-length': st.size,
    'cache-control': ext === '.html' ? 'no-cache' : hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}
