import { describe, expect, it } from 'vitest';
import {
  defaultView, expiryLabel, parseExpiryLabel, parseViewFromSearch, quickPicks, toSelection, viewToSearch, type ViewState,
} from './url.ts';

const D = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d, 8);

describe('expiry labels', () => {
  it('formats and parses Deribit labels at 08:00 UTC', () => {
    expect(expiryLabel(D(2024, 12, 27))).toBe('27DEC24');
    expect(expiryLabel(D(2025, 1, 3))).toBe('3JAN25');
    expect(parseExpiryLabel('27DEC24')).toBe(D(2024, 12, 27));
    expect(parseExpiryLabel('3JAN25')).toBe(D(2025, 1, 3));
  });
  it('rejects non-dates and wrong shapes', () => {
    expect(parseExpiryLabel('31FEB25')).toBeNull();
    expect(parseExpiryLabel('0JAN25')).toBeNull();
    expect(parseExpiryLabel('27dec24')).toBeNull();
    expect(parseExpiryLabel('27XYZ24')).toBeNull();
    expect(parseExpiryLabel('<b>27DEC24')).toBeNull();
  });
});

describe('parseViewFromSearch', () => {
  it('empty query -> defaults, no notices', () => {
    const r = parseViewFromSearch('');
    expect(r.view).toEqual(defaultView());
    expect(r.view.source).toBe('live');
    expect(r.notices).toEqual([]);
  });

  it('reads every parameter', () => {
    const r = parseViewFromSearch('?source=sim&venue=deribit&currency=ETH&expiries=3JAN25,27DEC24&model=short&range=12.5&kiosk=1&rotate=BTC,ETH&every=45s');
    expect(r.notices).toEqual([]);
    expect(r.view).toEqual({
      source: 'sim', venues: ['deribit'], currency: 'ETH', expiries: [D(2024, 12, 27), D(2025, 1, 3)], model: 'short',
      profileRange: 0.125, windowDays: 7, kiosk: true, rotate: ['BTC', 'ETH'], everyMs: 45_000,
      includeExpiring: false, afterNextExpiry: false, ladder: defaultView().ladder, exposure: 'gex', ladderVol: 0,
      priors: [], alerts: defaultView().alerts, historyTab: 'spot',
    } satisfies ViewState);
  });

  it('reads the beyond-gamma parameters: exposure, expiring lines, after the next expiry, the ladder', () => {
    const r = parseViewFromSearch('?exposure=vex&expiring=1&after=next&moves=-4,-1,0,2.5,1&horizons=0,4,next&vols=-3,0,3&vol=3');
    expect(r.notices).toEqual([]);
    expect(r.view).toMatchObject({
      exposure: 'vex', includeExpiring: true, afterNextExpiry: true, ladderVol: 0.03,
      ladder: { moves: [-0.04, -0.01, 0, 0.01, 0.025], hours: [0, 4, 'nextExpiry'], volShifts: [-0.03, 0, 0.03] },
    });
    expect(viewToSearch(r.view)).toBe(
      'source=live&venue=deribit&currency=BTC&expiries=all&model=classic&range=20&exposure=vex&expiring=1&after=next&moves=-4,-1,0,1,2.5&horizons=0,4,next&vols=-3,0,3&vol=3',
    );
    expect(parseViewFromSearch(viewToSearch(r.view)).view).toEqual(r.view);
  });

  it('reads the flow model and its window (days of trades), writes the window only when not the default week', () => {
    const r = parseViewFromSearch('?model=flow&window=14');
    expect(r.notices).toEqual([]);
    expect(r.view).toMatchObject({ model: 'flow', windowDays: 14 });
    expect(viewToSearch(r.view)).toBe('source=live&venue=deribit&currency=BTC&expiries=all&model=flow&range=20&window=14');
    expect(toSelection(r.view).windowDays).toBe(14);
    expect(viewToSearch(parseViewFromSearch('?model=flow').view)).toBe('source=live&venue=deribit&currency=BTC&expiries=all&model=flow&range=20');
    for (const bad of ['0', '31', '7.5', 'week', '-1', '007']) {
      const b = parseViewFromSearch(`?model=flow&window=${bad}`);
      expect(b.view.windowDays, bad).toBe(7);
      expect(b.notices, bad).toEqual([`parameter "window" is not valid (${JSON.stringify(bad)}); using 7 (days of trades for the flow model, 1-30)`]);
    }
  });

  it('reads priors, alert rules and the history tab, and writes them back', () => {
    const r = parseViewFromSearch('?priors=30,1,5&alerts=regime,zero,walls,flow:2.5,sound&history=heatmap');
    expect(r.notices).toEqual([]);
    expect(r.view.priors).toEqual([1, 5, 30]);
    expect(r.view.alerts).toEqual({ regime: true, zeroGamma: true, callWall: true, putWall: true, flowMultiple: 2.5, sound: true });
    expect(r.view.historyTab).toBe('heatmap');
    expect(viewToSearch(r.view)).toContain('&priors=1,5,30&alerts=regime,zero,walls,flow:2.5,sound&history=heatmap');
    expect(parseViewFromSearch(viewToSearch(r.view)).view).toEqual(r.view);
    expect(parseViewFromSearch('?alerts=putwall').view.alerts).toMatchObject({ callWall: false, putWall: true });
  });

  it('a malformed alert rule is named in a notice and left out, the others kept', () => {
    const r = parseViewFromSearch('?alerts=regime,zer0,flow:x,flow:500,<b>,walls&priors=2&history=map');
    expect(r.view.alerts).toEqual({ regime: true, zeroGamma: false, callWall: true, putWall: true, flowMultiple: null, sound: false });
    for (const bad of ['"zer0"', '"flow:x"', '"flow:500"', '"<b>"']) expect(r.notices.some((n) => n.startsWith(`alert rule ${bad} is not valid`)), bad).toBe(true);
    expect(r.view.priors).toEqual([]);
    expect(r.view.historyTab).toBe('spot');
    expect(r.notices.some((n) => n.startsWith('parameter "priors"'))).toBe(true);
    expect(r.notices.some((n) => n.startsWith('parameter "history"'))).toBe(true);
  });

  it('a bad ladder axis or a shown vol shift not on it falls back with a notice', () => {
    const r = parseViewFromSearch('?exposure=theta&expiring=maybe&after=2&moves=1,x&horizons=0,1000&vols=' + Array(10).fill('1').join(',') + '&vol=7');
    expect(r.view).toMatchObject({ exposure: 'gex', includeExpiring: false, afterNextExpiry: false, ladderVol: 0, ladder: defaultView().ladder });
    for (const k of ['exposure', 'expiring', 'after', 'moves', 'horizons', 'vols', 'vol']) expect(r.notices.some((n) => n.startsWith(`parameter "${k}"`)), k).toBe(true);
  });

  it('round trips exactly (view -> query -> view and canonical query -> view -> query)', () => {
    const views: ViewState[] = [
      defaultView(),
      { ...defaultView(), source: 'sim', currency: 'ETH', expiries: [D(2024, 12, 27), D(2025, 3, 28)], model: 'short', profileRange: 0.05 },
      { ...defaultView(), source: 'replay', kiosk: true, rotate: ['ETH', 'BTC'], everyMs: 120_000 },
      { ...defaultView(), everyMs: 10_000 },
    ];
    for (const v of views) {
      const q = viewToSearch(v);
      const back = parseViewFromSearch(q);
      expect(back.notices).toEqual([]);
      expect(back.view).toEqual(v);
      expect(viewToSearch(back.view)).toBe(q);
    }
    expect(viewToSearch(views[1])).toBe('source=sim&venue=deribit&currency=ETH&expiries=27DEC24,28MAR25&model=short&range=5');
  });

  it('a malformed parameter falls back to its default with a notice naming it', () => {
    const r = parseViewFromSearch('source=sim&currency=XRP&model=<script>&range=900&every=1s&kiosk=maybe');
    expect(r.view.source).toBe('sim');
    expect(r.view.currency).toBe('BTC');
    expect(r.view.model).toBe('classic');
    expect(r.view.profileRange).toBe(0.2);
    expect(r.view.everyMs).toBe(30_000);
    expect(r.view.kiosk).toBe(false);
    expect(r.notices).toHaveLength(5);
    expect(r.notices[0]).toBe('parameter "currency" is not valid ("XRP"); using BTC');
    expect(r.notices.some((n) => n.startsWith('parameter "model"'))).toBe(true);
    expect(r.notices.some((n) => n.startsWith('parameter "range"'))).toBe(true);
    expect(r.notices.some((n) => n.startsWith('parameter "every"'))).toBe(true);
    expect(r.notices.some((n) => n.startsWith('parameter "kiosk"'))).toBe(true);
  });

  it('unknown keys, prototype keys and duplicates are named and ignored', () => {
    const r = parseViewFromSearch('__proto__=x&constructor=y&currency=ETH&currency=BTC');
    expect(r.view.currency).toBe('ETH');
    expect(r.notices).toEqual([
      'unknown parameter "__proto__" ignored',
      'unknown parameter "constructor" ignored',
      'parameter "currency" given twice; using the first',
    ]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('bad expiries are dropped one by one; unknown venues are refused, the venue set is kept', () => {
    const r = parseViewFromSearch('expiries=27DEC24,31FEB25,junk&venue=okx,deribit,nasdaq,OKX');
    expect(r.view.expiries).toEqual([D(2024, 12, 27)]);
    expect(r.view.venues).toEqual(['okx', 'deribit']);
    expect(r.notices).toContain('expiry "31FEB25" is not a valid expiry (like 27DEC24); ignored');
    expect(r.notices).toContain('venue "nasdaq" is unknown; ignored');
  });

  it('over-long queries and too many expiries fall back', () => {
    const long = parseViewFromSearch(`currency=ETH&x=${'a'.repeat(3000)}`);
    expect(long.view).toEqual(defaultView());
    expect(long.notices[0]).toMatch(/longer than 2048/);
    const labels = Array.from({ length: 65 }, (_, i) => expiryLabel(D(2025, 1, 1) + i * 86_400_000)).join(',');
    const many = parseViewFromSearch(`expiries=${labels}`);
    expect(many.view.expiries).toEqual([]);
    expect(many.notices[0]).toMatch(/^parameter "expiries" is not valid/);
  });

  it('notices never carry control characters and are truncated', () => {
    const r = parseViewFromSearch(`currency=${encodeURIComponent('\u0000\n' + 'A'.repeat(100))}`);
    expect([...r.notices[0]].every((ch) => ch.charCodeAt(0) >= 0x20)).toBe(true);
    expect(r.notices[0].length).toBeLessThan(100);
  });
});

describe('quickPicks', () => {
  it('nearest, this week, this calendar month', () => {
    const live = [D(2025, 1, 3), D(2025, 1, 10), D(2025, 1, 31), D(2025, 2, 28)].map((expiryMs) => ({ expiryMs, label: expiryLabel(expiryMs), lines: 10 }));
    const p = quickPicks(live, Date.UTC(2025, 0, 2, 12));
    expect(p.nearest).toEqual([D(2025, 1, 3)]);
    expect(p.thisWeek).toEqual([D(2025, 1, 3)]);
    expect(p.thisMonth).toEqual([D(2025, 1, 3), D(2025, 1, 10), D(2025, 1, 31)]);
    expect(p.all).toEqual([]);
  });
});
