import { useEffect, useRef, type ReactNode } from 'react';

const DRAWER_ID = 'view-controls';

/**
 * On a phone the view controls live in a sheet that rises from the bottom, opened by the View button
 * in the bottom bar (where a thumb reaches); elsewhere `children` stay in the header as they are.
 */
export function ControlsDrawer({ phone, open, onClose, children }: { phone: boolean; open: boolean; onClose: () => void; children: ReactNode }) {
  const done = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!phone || !open) return;
    done.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [phone, open, onClose]);
  if (!phone) return children;
  if (!open) return null;
  return (
    <>
      <div className="drawer-backdrop" onClick={onClose} />
      <div className="drawer" id={DRAWER_ID} role="dialog" aria-modal="true" aria-label="View controls" data-testid="controls-drawer">
        <div className="drawer-head">
          <b>View</b>
          <button ref={done} className="btn" onClick={onClose} data-testid="menu-close">Done</button>
        </div>
        {children}
      </div>
    </>
  );
}

/** Opens the controls drawer (phone only). */
export function MenuButton({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  return (
    <button className="btn primary menu-btn" aria-expanded={open} aria-controls={DRAWER_ID} onClick={onToggle} data-testid="menu-toggle">
      View
    </button>
  );
}
