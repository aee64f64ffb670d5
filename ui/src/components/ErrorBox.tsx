/** An error as Orchard reports them: what went wrong, where, and what to do. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const detail = typeof error === 'object' ? (error as { message?: unknown; where?: unknown; hint?: unknown }) : {};
  const message = typeof detail.message === 'string' ? detail.message : String(error);
  return (
    <div className="error-box" role="alert">
      <strong>{message}</strong>
      {typeof detail.where === 'string' && <div className="where">at {detail.where}</div>}
      {typeof detail.hint === 'string' && <div className="hint">{detail.hint}</div>}
    </div>
  );
}
