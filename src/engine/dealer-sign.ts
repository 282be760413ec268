/**
 * Dealer sign models (design: "Dealer sign model"). A model says, per option line, which side of
 * the customers' open interest dealers hold: +1 dealers long, -1 dealers short. Fractions are allowed
 * so that later models (e.g. inferred from the trade tape: "dealers are short 70 % of this line")
 * fit the same interface without changing the engine.
 */
import type { ChainColumns, DealerModelId } from './types.ts';

export interface DealerSignModel {
  readonly id: DealerModelId;
  /** Short label for the screen and shared links. */
  readonly label: string;
  /**
   * Write the dealer sign (or signed fraction in [-1, 1]) of each listed line.
   * @param chain the chain columns
   * @param lines indices of the lines to sign (the included lines), first `count` used
   * @param out out[j] receives the sign of line lines[j]
   */
  fillSigns(chain: ChainColumns, lines: Int32Array, count: number, out: Float64Array): void;
}

/** classic: dealers long the calls, short the puts customers hold (+1 calls, -1 puts). */
export const classic: DealerSignModel = {
  id: 'classic',
  label: 'classic (dealers long calls, short puts)',
  fillSigns(chain, lines, count, out) {
    const isCall = chain.isCall;
    for (let j = 0; j < count; j++) out[j] = isCall[lines[j]] === 1 ? 1 : -1;
  },
};

/** short: dealers short every option (-1 for all). */
export const short: DealerSignModel = {
  id: 'short',
  label: 'short (dealers short all options)',
  fillSigns(_chain, _lines, count, out) {
    for (let j = 0; j < count; j++) out[j] = -1;
  },
};

const MODELS: Record<DealerModelId, DealerSignModel> = { classic, short };

/** The model for an id; unknown ids fall back to `classic` (the design default). */
export function dealerSignModel(id: DealerModelId | string): DealerSignModel {
  return (MODELS as Record<string, DealerSignModel>)[id] ?? classic;
}

/** The ids of every available model, in display order. */
export const DEALER_MODEL_IDS: readonly DealerModelId[] = ['classic', 'short'];
