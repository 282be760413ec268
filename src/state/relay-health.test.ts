import { describe, expect, it } from 'vitest';
import { parseServerInfo, relaySummary } from './relay-health.ts';
import { parseViewFromSearch } from './url.ts';

describe('relay health (source=relay)', () => {
  it('reads a relay\'s info: per venue and currency, silent shown as such', () => {
    const info = parseServerInfo({
      source: 'live',
      relay: {
        deribit: { upstream: { BTC: { state: 'open', silent: false, reason: null }, ETH: { state: 'open', silent: true, reason: null } } },
        okx: { upstream: { BTC: { state: 'reconnecting', silent: false, reason: 'no frame for 7000 ms' } } },
        __proto__: { upstream: { BTC: { state: 'open' } } },
        nasdaq: { upstream: { BTC: { state: 'open' } } },
      },
    });
    expect(info.source).toBe('live');
    expect(info.relay).toEqual([
      { venue: 'deribit', currency: 'BTC', state: 'open', reason: null },
      { venue: 'deribit', currency: 'ETH', state: 'silent', reason: null },
      { venue: 'okx', currency: 'BTC', state: 'reconnecting', reason: 'no frame for 7000 ms' },
    ]);
    expect(relaySummary(info.relay!)).toEqual({ ok: false, text: 'relay up · deribit ETH silent, okx BTC reconnecting (no frame for 7000 ms)' });
    expect(relaySummary(info.relay!.slice(0, 1))).toEqual({ ok: true, text: 'relay up · deribit BTC open' });
  });

  it('a server that is no relay, or says nothing usable, has no relay health', () => {
    expect(parseServerInfo({ source: 'sim' })).toEqual({ source: 'sim', relay: null });
    expect(parseServerInfo('nonsense')).toEqual({ source: null, relay: null });
    expect(parseServerInfo({ source: 'live', relay: { deribit: { upstream: { BTC: 'x' } } } })).toEqual({ source: 'live', relay: [] });
  });

  it('a link can name the relay as its source', () => {
    const { view, notices } = parseViewFromSearch('?source=relay&venue=deribit,okx');
    expect(notices).toEqual([]);
    expect(view.source).toBe('relay');
  });
});
