/** Static files of the built app with an SPA fallback; paths are confined to the root. */
import { promises as fsp } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.jpg', 'image/jpeg'],
  ['.ico', 'image/x-icon'],
  ['.webmanifest', 'application/manifest+json'],
  ['.woff2', 'font/woff2'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.wasm', 'application/wasm'],
]);

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
  // Opened before the headers go out: a file deleted since the stat (a rebuild of dist/ while screens
  // load it) is a 404, not a broken 200.
  const handle = await fsp.open(file, 'r').catch(() => undefined);
  if (!handle) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    return;
  }
  const size = (await handle.stat().catch(() => st)).size; // of the file opened, should it have been replaced since
  const ext = path.extname(file).toLowerCase();
  const hashed = /\/assets\//.test(file.split(path.sep).join('/'));
  res.writeHead(200, {
    'content-type': TYPES.get(ext) ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': ext === '.html' ? 'no-cache' : hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    await handle.close();
    res.end();
    return;
  }
  // A read that fails (an I/O error) ends this response, never the server: a stream error is an
  // event, which the request handler's catch would not see.
  await pipeline(handle.createReadStream(), res).catch(() => res.destroy());
}
