/** Fault switches of the local venue (POST /__sim/fault {kind, ...params}); see server/README.md. */
import { VENUE_IDS, isVenueId, type VenueId } from '../../src/shared/venues.ts';

export const FAULT_KINDS = [
  'drop',
  'silent',
  'heartbeatOnly',
  'refuse',
  'flap',
  'error10028',
  'malformed',
  'badNumbers',
  'oversize',
  'dup',
  'reorder',
  'gap',
  'flood',
  'expireAt',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];


/** Kinds that act once when set (the others stay on until /__sim/clear). */
export const ONE_SHOT: ReadonlySet<FaultKind> = new Set<FaultKind>(['drop', 'oversize', 'gap', 'expireAt', 'error10028']);

export interface FaultRequest {
  kind: FaultKind;
  params: Record<string, unknown>;
}

/** Validate a fault body; returns a reason string when invalid. */
export function parseFault(body: unknown): FaultRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const { kind, ...params } = body as Record<string, unknown>;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) return `unknown fault kind: ${String(kind).slice(0, 40)}`;
  if (kind === 'flood' && params.factor !== undefined) {
    const f = Number(params.factor);
    if (!Number.isFinite(f) || f < 1 || f > 100) return 'flood factor must be 1..100';
  }
  if (kind === 'expireAt' && params.expiryMs !== undefined && !Number.isFinite(Number(params.expiryMs))) return 'expiryMs must be a number';
  if (kind === 'expireAt' && params.beforeMs !== undefined && !(Number(params.beforeMs) >= 0 && Number(params.beforeMs) <= 86_400_000)) return 'beforeMs must be 0..86400000';
  if (params.venue !== undefined && !isVenueId(params.venue)) return `venue must be one of ${VENUE_IDS.join(', ')}`;
  if (kind === 'error10028' && params.venue !== undefined && params.venue !== 'deribit') return "error10028 is Deribit's (venue must be deribit or absent)";
  return { kind: kind as FaultKind, params };
}

export class FaultState {
  private active = new Map<FaultKind, Record<string, unknown>>();
  /** The 10028 one-shot stays armed until a subscribe consumes it. */
  error10028Armed = false;

  set(f: FaultRequest): void {
    if (f.kind === 'error10028') this.error10028Armed = true;
    else if (!ONE_SHOT.has(f.kind)) this.active.set(f.kind, f.params);
  }

  clear(): void {
    this.active.clear();
    this.error10028Armed = false;
  }

  has(k: FaultKind): boolean {
    return this.active.has(k);
  }

  params(k: FaultKind): Record<string, unknown> | undefined {
    return this.active.get(k);
  }

  /** Whether fault `k` is on for `venue`: set without a `venue` param (every venue) or with this one. */
  on(k: FaultKind, venue: VenueId): boolean {
    const p = this.active.get(k);
    return p !== undefined && (p.venue === undefined || p.venue === venue);
  }

  floodFactor(): number {
    const p = this.active.get('flood');
    if (!p) return 1;
    const f = Number(p.factor ?? 10);
    return Math.max(1, Math.min(100, Math.round(Number.isFinite(f) ? f : 10)));
  }

  list(): string[] {
    const out = [...this.active.keys()] as string[];
    if (this.error10028Armed) out.push('error10028');
    return out;
  }
}
