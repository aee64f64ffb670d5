/** Any JSON value as nested definition lists: for reports whose shape this page does not know. */
export function JsonTree({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value !== 'object') return <span>{String(value)}</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    return (
      <ul className="json-list">
        {value.map((item, i) => (
          <li key={i}>
            <JsonTree value={item} />
          </li>
        ))}
      </ul>
    );
  }
  return (
    <dl className="json-tree">
      {Object.entries(value as Record<string, unknown>).map(([key, v]) => (
        <div key={key} className="json-row">
          <dt>{key}</dt>
          <dd>
            <JsonTree value={v} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
