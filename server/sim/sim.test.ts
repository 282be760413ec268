import { describe, expect, it } from 'vitest';
import { black76 } from './black76.ts';
import { expiryCode, lastFriday, listedExpiries, parseInstrumentName } from './calendar.ts';
import { MarketSim } from './market.ts';

const START = Date.parse('2025-03-03T12:00:00Z'); // a Monday

describe('expiry calendar', () => {
  it('lists dailies, 4 Fridays, 3 month-ends and 4 quarter-ends at 08:00 UTC', () => {
    const codes = listedExpiries(START).map(expiryCode);
    expect(codes).toEqual(['4MAR25', '5MAR25', '6MAR25', '7MAR25', '14MAR25', '21MAR25', '28MAR25', '25APR25', '30MAY25', '27JUN25', '26SEP25', '26DEC25']);
    for (const e of listedExpiries(START)) expect(new Date(e).getUTCHours()).toBe(8);
    expect(new Date(lastFriday(2024, 11)).toISOString()).toBe('2024-12-27T08:00:00.000Z');
  });
  it('parses Deribit names', () => {
    expect(parseInstrumentName('BTC-24SEP21-40000-P')).toEqual({ currency: 'BTC', kind: 'option', expiryMs: Date.parse('2021-09-24T08:00:00Z'), strike: 40000, isCall: false });
    expect(parseInstrumentName('MATIC_USDC-9MAR24-1d02-C')?.strike).toBe(1.02);
    expect(parseInstrumentName('BTC-PERPETUAL')?.perpetual).toBe(true);
    expect(parseInstrumentName('BTC-99ZZZ99-1-C')).toBeUndefined();
  });
});

describe('MarketSim', () => {
  it('is deterministic: same seed and start give identical state at the same sim time', () => {
    const a = new MarketSim({ seed: 7, startMs: START });
    const b = new MarketSim({ seed: 7, startMs: START });
    // a advances in one jump, b in uneven chunks: the state must not depend on how time was sliced
    a.advanceTo(START + 600_000);
    for (let t = START; t <= START + 600_000; t += 12_345) b.advanceTo(t);
    b.advanceTo(START + 600_000);
    expect(a.timeMs).toBe(b.timeMs);
    const rows = (s: MarketSim) => s.instruments('BTC').map((d) => s.quote(d.name));
    expect(JSON.stringify(rows(a))).toBe(JSON.stringify(rows(b)));
    expect(a.perp('ETH')).toEqual(b.perp('ETH'));
    const c = new MarketSim({ seed: 8, startMs: START });
    c.advanceTo(START + 600_000);
    expect(c.index('BTC')).not.toBe(a.index('BTC'));
  });

  it('the hidden book and its tape do not depend on what was asked first (open interest or trades)', () => {
    const oiFirst = new MarketSim({ seed: 42, startMs: START });
    const tapeFirst = new MarketSim({ seed: 42, startMs: START });
    const oi = (s: MarketSim) => s.instruments('BTC').map((d) => s.openInterest(d));
    const oiA = oi(oiFirst); // a book summary's first request reads every line's open interest
    const day = (s: MarketSim) => s.deribitBook.between('BTC', START - 86_400_000, START).map((t) => `${t.id}:${t.amount}`);
    const tapeB = day(tapeFirst);
    expect(day(oiFirst)).toEqual(tapeB);
    expect(oi(tapeFirst)).toEqual(oiA);
    // the default knobs' pace: about 2 trades a minute on Deribit's BTC options, not thousands an hour
    expect(tapeB.length).toBeGreaterThan(1_000);
    expect(tapeB.length).toBeLessThan(10_000);
  });

  it('jumps to any time in bounded work, to the same state as stepping there (issue 11, review 3.10)', () => {
    // across hour boundaries and an 08:00 roll: 07:59 -> 09:01 by 100 ms steps, or in one jump
    const t0 = Date.parse('2025-03-03T07:59:00Z');
    const target = t0 + 62 * 60_000 + 300;
    const stepped = new MarketSim({ seed: 3, startMs: t0 });
    const events: string[] = [];
    for (let t = t0; t <= target; t += 100) for (const e of stepped.advanceTo(t)) events.push(`${e.type} ${e.instrumentName}`);
    const jumped = new MarketSim({ seed: 3, startMs: t0 });
    const jumpEvents = jumped.advanceTo(target).map((e) => `${e.type} ${e.instrumentName}`);
    expect(jumpEvents.sort()).toEqual(events.sort());
    expect(events.length).toBeGreaterThan(20);
    const view = (s: MarketSim) => JSON.stringify({ t: s.timeMs, perp: s.perp('BTC'), eth: s.index('ETH'), list: s.instruments('BTC').map((d) => [d.name, d.createdMs]), q: s.instruments('ETH').slice(0, 50).map((d) => s.quote(d.name)) });
    expect(view(jumped)).toBe(view(stepped));

    // far jumps: bounded time, the same state as reaching there in two hops, a sane market
    for (const dt of [30 * 86_400_000, 365 * 86_400_000, 4102444800000 - START, 1e15]) {
      const a = new MarketSim({ seed: 42, startMs: START });
      const t = performance.now();
      const ev = a.advanceTo(START + dt);
      expect(performance.now() - t).toBeLessThan(1_000);
      expect(ev.length).toBeLessThan(10_000);
      const b = new MarketSim({ seed: 42, startMs: START });
      b.advanceTo(START + dt / 3);
      b.advanceTo(START + dt);
      expect(view(b)).toBe(view(a));
      for (const c of ['BTC', 'ETH'] as const) {
        const spot = a.index(c);
        expect(spot / b.params(c).spotBase).toBeGreaterThan(0.05);
        expect(spot / b.params(c).spotBase).toBeLessThan(20);
        expect(a.instruments(c).length).toBeGreaterThan(200);
      }
    }
  });

  it('the path is continuous across hours and keeps its volatility', () => {
    const s = new MarketSim({ seed: 5, startMs: START });
    const sec: number[] = [];
    let last = Math.log(s.index('BTC'));
    for (let k = 1; k <= 3 * 3_600; k++) {
      s.advanceTo(START + k * 1_000);
      const x = Math.log(s.index('BTC'));
      sec.push(x - last);
      last = x;
    }
    // one-second moves at 50 % a year (about 9e-5), the hour boundaries no bigger than any other second
    const sd = Math.sqrt(sec.reduce((a, x) => a + x * x, 0) / sec.length);
    expect(sd * Math.sqrt(365 * 86_400)).toBeGreaterThan(0.35);
    expect(sd * Math.sqrt(365 * 86_400)).toBeLessThan(0.8);
    for (const k of [3_599, 7_199]) expect(Math.abs(sec[k])).toBeLessThan(6 * sd);
  });

  it('rolls at 08:00 UTC: the expired daily disappears, the new one is listed, events are emitted', () => {
    const t0 = Date.parse('2025-03-03T07:59:50Z');
    const s = new MarketSim({ seed: 1, startMs: t0 });
    expect(s.listedExpiries().map(expiryCode).slice(0, 3)).toEqual(['3MAR25', '4MAR25', '5MAR25']);
    const n3 = s.instruments('BTC').filter((d) => d.name.includes('-3MAR25-')).length;
    expect(n3).toBeGreaterThan(10);
    expect(s.advanceTo(t0 + 9_900)).toEqual([]); // 07:59:59.900: nothing yet
    const ev = s.advanceTo(t0 + 10_000);
    const after = s.listedExpiries().map(expiryCode);
    expect(after.slice(0, 3)).toEqual(['4MAR25', '5MAR25', '6MAR25']);
    expect(s.instruments('BTC').some((d) => d.name.includes('-3MAR25-'))).toBe(false);
    const term = ev.filter((e) => e.type === 'terminated' && e.currency === 'BTC');
    expect(term.length).toBe(n3);
    const created = ev.filter((e) => e.type === 'created');
    expect(created.length).toBeGreaterThan(10);
    expect(created.every((e) => e.instrumentName.includes('-6MAR25-'))).toBe(true);
    expect(ev.every((e) => e.timestamp === Date.parse('2025-03-03T08:00:00Z'))).toBe(true);
  });

  it('has Deribit-like strikes (round, denser near spot) and a smile', () => {
    const s = new MarketSim({ seed: 42, startMs: START });
    const spot = s.index('BTC');
    const exp = s.listedExpiries();
    const near = s.instruments('BTC').filter((d) => d.expiryMs === exp[0] && d.isCall).map((d) => d.strike);
    const far = s.instruments('BTC').filter((d) => d.expiryMs === exp[exp.length - 1] && d.isCall).map((d) => d.strike);
    expect(near.every((k) => k % 500 === 0)).toBe(true);
    expect(Math.max(...far) / Math.min(...far)).toBeGreaterThan(3 * (Math.max(...near) / Math.min(...near)) - 2);
    const gaps = (ks: number[]) => ks.slice(1).map((k, i) => k - ks[i]);
    expect(Math.min(...gaps(near))).toBeLessThan(Math.min(...gaps(far)));
    expect(s.instruments('BTC').length).toBeGreaterThan(500);
    // skew: a 20 % OTM put has a higher IV than the ATM call of the same expiry
    const e = exp[6];
    const f = s.forward('BTC', e);
    const byK = (isCall: boolean, k: number) => s.instruments('BTC').filter((d) => d.expiryMs === e && d.isCall === isCall).sort((a, b) => Math.abs(a.strike - k) - Math.abs(b.strike - k))[0];
    expect(s.quote(byK(false, f * 0.8).name)!.markIvPct).toBeGreaterThan(s.quote(byK(true, f).name)!.markIvPct);
    expect(f).toBeGreaterThan(spot); // contango basis
  });

  it('seed 42 has a zero-gamma crossing within +-20 % under the classic sign model', () => {
    const s = new MarketSim({ seed: 42, startMs: START });
    for (const c of ['BTC', 'ETH'] as const) {
      const gex = (x: number) => {
        let g = 0;
        for (const d of s.instruments(c)) {
          const q = s.quote(d.name)!;
          const T = (d.expiryMs - s.timeMs) / (365 * 86_400_000);
          const F = q.forward * (1 + x);
          g += (d.isCall ? 1 : -1) * black76(F, d.strike, T, q.markIvPct / 100, d.isCall).gamma * F * F * 0.01 * q.openInterest;
        }
        return g;
      };
      expect(gex(-0.2)).toBeLessThan(0);
      expect(gex(0.2)).toBeGreaterThan(0);
    }
  });
});
