import { useEffect, useState } from 'react';
import { useGex, useGexStoreApi } from '../../state/react.ts';
import { keepScreenAwake, type WakeLockApi, type WakeState } from './wakeLock.ts';

/** Rotates the currency every `every` through `rotate` (wall displays). */
export function useRotation(): void {
  const kiosk = useGex((s) => s.view.kiosk);
  const rotate = useGex((s) => s.view.rotate);
  const everyMs = useGex((s) => s.view.everyMs);
  const store = useGexStoreApi();
  useEffect(() => {
    if (!kiosk || rotate.length < 2) return;
    const id = setInterval(() => {
      const { view, actions } = store.getState();
      const i = rotate.indexOf(view.currency);
      actions.setView({ currency: rotate[(i + 1) % rotate.length] });
    }, everyMs);
    return () => clearInterval(id);
  }, [kiosk, rotate, everyMs, store]);
}

/** Screen Wake Lock while `enabled`; returns the lock's state for a small badge. */
export function useWakeLock(enabled: boolean): WakeState | null {
  const [state, setState] = useState<WakeState | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const wakeLock = (navigator as Navigator & { wakeLock?: WakeLockApi }).wakeLock;
    return keepScreenAwake({ wakeLock, doc: document, onState: setState });
  }, [enabled]);
  return enabled ? state : null;
}
