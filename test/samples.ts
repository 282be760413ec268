/**
 * Where the recorded venue samples live: `shared/data/feeds/<venue>/` beside the repository (CI clones
 * the repo with shared/ next to it). GEXDESK_SHARED overrides the shared/ folder.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DIR = process.env.GEXDESK_SHARED ?? path.resolve(repoRoot, '../shared');

/** Absolute folder of a venue's samples, with a trailing slash. */
export function sampleDir(venue: 'deribit' | 'okx' | 'bybit' | 'binance'): string {
  return path.join(SHARED_DIR, 'data/feeds', venue) + path.sep;
}
