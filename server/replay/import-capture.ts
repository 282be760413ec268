/**
 * Turns real venue captures into replay recordings (recording.ts format), so they replay on the venue's
 * own path like the Deribit 2021 capture does:
 *
 *   node --import tsx server/replay/import-capture.ts --venue okx IN [IN ...] [--out OUT.jsonl]
 *
 * Read formats (bad input is counted and skipped, never thrown):
 * - a session log, one frame a line: `URL <-> SECONDS` (connect), `URL <- SECONDS: JSON` (sent),
 *   `SECONDS: JSON` (received) — cryptofeed's sample_data, e.g. the 2022 OKX session;
 * - JSON holding venue pushes: one frame (`{arg,data}`, `{topic,data}`, `{stream,data}`), an array of
 *   them, `{messages:[...]}` (Tardis test data), or an object whose values are frames (keys starting
 *   with `_` are notes) — e.g. OKX's 2023 opt-summary snapshot. A frame's time is the venue time it
 *   carries and its path the one the venue serves it on (each venue's `stampOf` and `capturePath`, venues/<venue>/index.ts).
 * Lines are ordered by time; REST answers are not in these captures: the replayer derives them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { localPath } from './recording.ts';
import { VENUE_IDS, isVenueId, type VenueId } from '../../src/shared/venues.ts';
import { venueDef } from '../venues/registry.ts';

/** Venues whose captures are imported (the others' captures are recordings already). */
export const CAPTURE_VENUES: readonly VenueId[] = VENUE_IDS.filter((v) => venueDef(v).capturePath !== undefined);

export interface ImportReport {
  frames: number;
  skipped: Record<string, number>;
}

interface Line {
  ts: number;
  text: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPush(f: Record<string, unknown>): boolean {
  return (isObject(f.arg) || typeof f.topic === 'string' || typeof f.stream === 'string') && f.data !== undefined;
}

/** Recording lines from one capture file's text. */
export function importCapture(venue: VenueId, text: string): { lines: string[]; report: ImportReport } {
  const def = venueDef(venue);
  const capturePath = def.capturePath;
  if (!capturePath) throw new Error(`${venue} captures are not imported: they are recordings already`);
  const report: ImportReport = { frames: 0, skipped: {} };
  const skip = (r: string) => (report.skipped[r] = (report.skipped[r] ?? 0) + 1);
  const out: Line[] = [];
  const push = (ts: number, obj: Record<string, unknown>) => {
    out.push({ ts, text: JSON.stringify(obj) });
  };
  const session = /^(wss?:\/\/\S+) (<->|<-) (\d+(?:\.\d+)?)(?:: (.*))?$/;
  const received = /^(\d+(?:\.\d+)?): (.*)$/;
  const trimmed = text.trimStart();
  if (/^wss?:\/\//.test(trimmed)) {
    let path = '';
    for (const raw of text.split('\n')) {
      const line = raw.trimEnd();
      if (line === '') continue;
      const s = session.exec(line);
      const r = s ? null : received.exec(line);
      const ts = Math.round(Number(s ? s[3] : r?.[1]) * 1000);
      if ((!s && !r) || !Number.isFinite(ts)) {
        skip('unreadable line');
        continue;
      }
      if (s) path = localPath(venue, s[1]);
      if (s && s[2] === '<->') {
        push(ts, { event: 'connect', venue, path, url: s[1], ts });
        continue;
      }
      let frame: unknown;
      try {
        frame = JSON.parse((s ? s[4] : r![2]) ?? '');
      } catch {
        skip('not JSON');
        continue;
      }
      if (!isObject(frame) || path === '') {
        skip(path === '' ? 'frame before connect' : 'not an object');
        continue;
      }
      push(ts, { venue, path, dir: s ? 'out' : 'in', ts, frame });
      report.frames++;
    }
  } else {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      skip('not JSON');
      return { lines: [], report };
    }
    const candidates: unknown[] = Array.isArray(doc)
      ? doc
      : isObject(doc) && Array.isArray(doc.messages)
        ? doc.messages
        : isObject(doc) && isPush(doc)
          ? [doc]
          : isObject(doc)
            ? Object.entries(doc).filter(([k]) => !k.startsWith('_')).map(([, v]) => v)
            : [];
    for (const f of candidates) {
      if (!isObject(f) || !isPush(f)) {
        skip('not a push');
        continue;
      }
      const ts = def.stampOf(f);
      const path = capturePath(f);
      if (ts === null) {
        skip('no venue time');
        continue;
      }
      if (path === null) {
        skip('not served locally');
        continue;
      }
      push(ts, { venue, path, dir: 'in', ts, frame: f });
      report.frames++;
    }
  }
  out.sort((a, b) => a.ts - b.ts);
  return { lines: out.map((l) => l.text), report };
}

function main(argv: string[]): number {
  let venue: string | undefined;
  let outFile: string | undefined;
  const inputs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--venue') venue = argv[++i];
    else if (argv[i] === '--out') outFile = argv[++i];
    else inputs.push(argv[i]);
  }
  if (!isVenueId(venue) || !CAPTURE_VENUES.includes(venue)) {
    process.stderr.write(`usage: server/replay/import-capture.ts --venue ${CAPTURE_VENUES.join('|')} IN [IN ...] [--out OUT.jsonl]\n`);
    return 2;
  }
  const all: Line[] = [];
  for (const f of inputs) {
    const { lines, report } = importCapture(venue, readFileSync(f, 'utf8'));
    process.stderr.write(`${f}: ${report.frames} frame(s)${Object.keys(report.skipped).length ? `, skipped ${JSON.stringify(report.skipped)}` : ''}\n`);
    for (const text of lines) all.push({ ts: (JSON.parse(text) as { ts: number }).ts, text });
  }
  all.sort((a, b) => a.ts - b.ts);
  const body = all.map((l) => l.text).join('\n') + '\n';
  if (outFile) writeFileSync(outFile, body);
  else process.stdout.write(body);
  return 0;
}

if (process.argv[1] && /server[\\/]replay[\\/]import-capture\.ts$/.test(process.argv[1])) process.exitCode = main(process.argv.slice(2));
