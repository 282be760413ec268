/**
 * Dealer position models (design: "Dealer sign model"). Every model gives each option line a signed
 * dealer position q in the venue's contracts: classic +OI for calls and -OI for puts, short -OI, and
 * flow (flow-model.ts) a position inferred from the public trade tape. The engine multiplies q by the
 * contract multiplier and never asks how q was found, so a model is one function.
 */
import type { ChainColumns, DealerModelId } from './types.ts';
import { DEALER_MODEL_HELP, DEALER_MODELS } from '../shared/policy.ts';

export interface DealerPositionModel {
  readonly id: DealerModelId;
  /** Short label for the screen and shared links. */
  readonly label: string;
  /**
   * Write the dealer position q (contracts, + = dealers long) of each listed line.
   * @param chain the chain columns (valid lines: OI finite and >= 0)
   * @param lines indices of the lines to position, first `count` used
   * @param out out[j] receives q of line lines[j]
   */
  fillPositions(chain: ChainColumns, lines: Int32Array, count: number, out: Float64Array): void;
}

/** The classic sign of a line: +1 for a call (dealers long), -1 for a put (dealers short). */
export const classicSign = (chain: ChainColumns, i: number): number => (chain.isCall[i] === 1 ? 1 : -1);

/** classic: dealers long the calls, short the puts customers hold: q = +OI calls, -OI puts. */
export const classic: DealerPositionModel = {
  id: 'classic',
  label: 'classic (dealers long calls, short puts)',
  fillPositions(chain, lines, count, out) {
    for (let j = 0; j < count; j++) {
      const i = lines[j];
      out[j] = classicSign(chain, i) * chain.openInterest[i];
    }
  },
};

/** short: dealers short every option: q = -OI. */
export const short: DealerPositionModel = {
  id: 'short',
  label: 'short (dealers short all options)',
  fillPositions(chain, lines, count, out) {
    for (let j = 0; j < count; j++) out[j] = -chain.openInterest[lines[j]];
  },
};

/** Labels of every model, in display order (the flow model's behaviour lives in flow-model.ts). */
export const DEALER_MODEL_LABELS: Readonly<Record<DealerModelId, string>> = {
  classic: classic.label,
  short: short.label,
  flow: `flow (${DEALER_MODEL_HELP.flow})`,
};

/** The ids of every available model, in display order. */
export const DEALER_MODEL_IDS: readonly DealerModelId[] = DEALER_MODELS;
