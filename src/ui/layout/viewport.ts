/**
 * Which layout the screen gets and how large a wall display's type is. One place decides, from the
 * window's size; theme.css lays out each layout (`.app[data-layout=...]`) and the charts size their
 * type and ticks from the same values.
 */
import { createContext, useContext, useSyncExternalStore } from 'react';

/**
 * - `phone`: one column in reading order, scrolling; controls in a drawer (up to ~600 px wide).
 * - `stack`: two columns, key levels as a strip on top (tablets, narrow windows, portrait screens).
 * - `wide`: the desk layout on one screen: charts left, key levels and history on the right.
 */
export type LayoutName = 'phone' | 'stack' | 'wide';

export interface Viewport {
  layout: LayoutName;
  /** Type and chart scale of the wall display (kiosk): 1 on a 1080p screen, 2 on 4K; 1 otherwise. */
  scale: number;
}

export const PHONE_MAX_WIDTH = 600;
export const STACK_MAX_WIDTH = 1100;
/** A wall display's scale follows its short side, 1080 px being 1, within these bounds. */
const KIOSK_SCALE_MIN = 0.75;
const KIOSK_SCALE_MAX = 4;

export function viewportFor(width: number, height: number, kiosk: boolean): Viewport {
  const layout: LayoutName = width < PHONE_MAX_WIDTH ? 'phone' : width < STACK_MAX_WIDTH || height > width ? 'stack' : 'wide';
  if (!kiosk) return { layout, scale: 1 };
  // Steps of 1/20 so a few pixels of resize do not restyle every chart.
  const raw = Math.min(width, height) / 1080;
  const scale = Math.round(Math.min(KIOSK_SCALE_MAX, Math.max(KIOSK_SCALE_MIN, raw)) * 20) / 20;
  return { layout, scale };
}

/** One object per distinct viewport, so useSyncExternalStore and memoised children see no change on a no-op resize. */
const cache = new Map<string, Viewport>();
function cached(v: Viewport): Viewport {
  const key = `${v.layout}:${v.scale}`;
  let hit = cache.get(key);
  if (!hit) cache.set(key, (hit = v));
  return hit;
}

const subscribe = (onChange: () => void) => {
  window.addEventListener('resize', onChange);
  return () => window.removeEventListener('resize', onChange);
};

/** The viewport of this window, re-rendering the caller when the layout or the kiosk scale changes. */
export function useWindowViewport(kiosk: boolean): Viewport {
  return useSyncExternalStore(subscribe, () => cached(viewportFor(window.innerWidth, window.innerHeight, kiosk)));
}

export const ViewportContext = createContext<Viewport>({ layout: 'wide', scale: 1 });

/** The layout and scale the dashboard is drawn at (set once by the App). */
export function useViewport(): Viewport {
  return useContext(ViewportContext);
}
