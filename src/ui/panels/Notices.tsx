import { useGex } from '../../state/react.ts';

/** Plain-text notices (URL problems, venue errors); bounded in the store. */
export function Notices() {
  const notices = useGex((s) => s.notices);
  const dismiss = useGex((s) => s.actions.dismissNotice);
  if (notices.length === 0) return null;
  return (
    <div className="notices" role="status" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.level}`} data-testid="notice">
          <span className="msg">{n.message}{n.count > 1 ? ` (×${n.count})` : ''}</span>
          <button aria-label="dismiss" onClick={() => dismiss(n.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
