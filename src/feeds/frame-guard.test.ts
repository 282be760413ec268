import { describe, expect, it } from 'vitest';
import { countDrop, parseFrame, readNumber, readOptionalNumber, readPrice, readString, readTimestampMs } from './frame-guard.ts';

describe('parseFrame', () => {
  it('parses text and UTF-8 bytes', () => {
    expect(parseFrame('{"a":1}', 100)).toEqual({ ok: true, value: { a: 1 } });
    expect(parseFrame(new TextEncoder().encode('[1,2]'), 100)).toEqual({ ok: true, value: [1, 2] });
  });
  it('drops oversize before parsing, malformed without throwing', () => {
    expect(parseFrame('x'.repeat(101), 100)).toEqual({ ok: false, reason: 'oversize' });
    expect(parseFrame('{"a":', 100)).toEqual({ ok: false, reason: 'malformed' });
    expect(parseFrame('', 100)).toEqual({ ok: false, reason: 'malformed' });
    expect(parseFrame(42, 100)).toEqual({ ok: false, reason: 'malformed' });
    expect(parseFrame(null, 100)).toEqual({ ok: false, reason: 'malformed' });
  });
  it('1e400 parses to Infinity and the number reader rejects it', () => {
    const r = parseFrame('{"x":1e400}', 100);
    expect(r.ok).toBe(true);
    const o = (r as { value: Record<string, unknown> }).value;
    expect(o.x).toBe(Infinity);
    expect(readNumber(o, 'x')).toEqual({ ok: false, reason: 'badNumber' });
  });
});

describe('field readers', () => {
  const o = { p: 100.5, z: 0, neg: -1, s: 'NaN', name: 'BTC-PERPETUAL', n: null, ts: 1626993723632, tsSec: 1626993723 };
  it('numbers with bounds', () => {
    expect(readNumber(o, 'p', { gt: 0 })).toEqual({ ok: true, value: 100.5 });
    expect(readPrice(o, 'z')).toEqual({ ok: false, reason: 'badNumber' });
    expect(readNumber(o, 'neg', { ge: 0 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(readNumber(o, 'z', { ge: 0 })).toEqual({ ok: true, value: 0 });
    expect(readNumber(o, 's')).toEqual({ ok: false, reason: 'badNumber' });
    expect(readNumber(o, 'missing')).toEqual({ ok: false, reason: 'malformed' });
    expect(readNumber(o, 'name')).toEqual({ ok: false, reason: 'badNumber' });
    expect(readNumber(o, 'p', { le: 10 })).toEqual({ ok: false, reason: 'badNumber' });
  });
  it('optional numbers and strings and timestamps', () => {
    expect(readOptionalNumber(o, 'n')).toEqual({ ok: true, value: null });
    expect(readOptionalNumber(o, 'missing')).toEqual({ ok: true, value: null });
    expect(readOptionalNumber(o, 'neg', { ge: 0 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(readString(o, 'name')).toEqual({ ok: true, value: 'BTC-PERPETUAL' });
    expect(readString(o, 'p')).toEqual({ ok: false, reason: 'malformed' });
    expect(readTimestampMs(o, 'ts')).toEqual({ ok: true, value: 1626993723632 });
    expect(readTimestampMs(o, 'tsSec')).toEqual({ ok: false, reason: 'badNumber' });
  });
  it('counts drops', () => {
    const c: Record<string, number> = {};
    countDrop(c, 'malformed');
    countDrop(c, 'malformed', 2);
    expect(c).toEqual({ malformed: 3 });
  });
});
