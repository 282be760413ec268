/**
 * Where the recorded venue samples live: `shared/data/feeds/<venue>/`. Looked for, in order, at
 * GEXDESK_SHARED, beside this repository (CI clones the repo with shared/ next to it), and beside the
 * repository this one was cloned from (a scratch clone such as `git clone . /tmp/x` has no shared/ next
 * to it). A missing folder is one clear error naming every place tried, not an ENOENT per test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { VenueId } from '../src/shared/venues.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The clone's origin when it is a folder on this machine (not a URL), else null. */
function localOrigin(): string | null {
  try {
    const url = execFileSync('git', ['config', '--get', 'remote.origin.url'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dir = url.startsWith('file://') ? fileURLToPath(url) : url;
    return path.isAbsolute(dir) ? dir : null;
  } catch {
    return null;
  }
}

function findShared(): string {
  if (process.env.GEXDESK_SHARED) return process.env.GEXDESK_SHARED;
  const origin = localOrigin();
  const tried = [path.resolve(repoRoot, '../shared'), ...(origin ? [path.resolve(origin, '../shared')] : [])];
  const found = tried.find((d) => existsSync(path.join(d, 'data/feeds')));
  if (!found) throw new Error(`venue samples not found: no data/feeds under ${tried.join(' or ')}; set GEXDESK_SHARED to the shared/ folder`);
  return found;
}

export const SHARED_DIR = findShared();

/** Absolute folder of a venue's samples, with a trailing slash. */
export function sampleDir(venue: VenueId): string {
  return path.join(SHARED_DIR, 'data/feeds', venue) + path.sep;
}
