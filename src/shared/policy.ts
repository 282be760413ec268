/**
 * The numbers every layer must agree on (design: "Invalid input"; reliability: staleness), once.
 */

/** No data for this long and a venue's figures are stale: the feed health, the page's banner. */
export const DATA_STALE_MS = 10_000;

/** Mark IV outside [MIN_IV, MAX_IV] (decimal: 0.01 = 1 %, 10 = 1000 %) is absurd: dropped by the feeds, excluded by the engine. */
export const MIN_IV = 0.01;
export const MAX_IV = 10;

/**
 * Where data comes from; anything but `live` is labelled on screen. `relay`: the live venues through
 * the desk's relay (the local server with `--source live`), on its venue paths.
 */
export const SOURCES = ['live', 'sim', 'replay', 'relay'] as const;
export type SourceKind = (typeof SOURCES)[number];

export const CURRENCIES = ['BTC', 'ETH'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Dealer position models (design: "Dealer sign model"), in display order. */
export const DEALER_MODELS = ['classic', 'short', 'flow'] as const;
export type DealerModelId = (typeof DEALER_MODELS)[number];

/** One line for people of what each model assumes (the picker's help, the CLI's --help). */
export const DEALER_MODEL_HELP: Readonly<Record<DealerModelId, string>> = {
  classic: 'dealers long the calls, short the puts customers hold',
  short: 'dealers short every option (market makers sold them all)',
  flow: 'dealer positions inferred from the public trade tape (an estimate)',
};

/** `x` is one of `list` (for strings from links and messages). */
export function oneOf<T extends string>(list: readonly T[], x: unknown): x is T {
  return typeof x === 'string' && (list as readonly string[]).includes(x);
}
