import type { ValidateResponse } from '../../../engine/api/api-types.js';

type Issue = ValidateResponse['errors'][number];

/** The validator's findings, each a button that jumps to its line in the editor. */
export function ValidationList({
  result,
  checking,
  onJump,
}: {
  result: ValidateResponse | undefined;
  checking: boolean;
  onJump: (issue: Issue) => void;
}) {
  if (!result) return <p className="muted validation-status">{checking ? 'Checking…' : ' '}</p>;
  if (result.ok)
    return (
      <p className="validation-status ok" role="status">
        ✓ Valid recipe{checking ? ' (checking…)' : ''}
      </p>
    );
  return (
    <div className="validation">
      <p className="validation-status bad" role="status">
        {result.errors.length} problem{result.errors.length === 1 ? '' : 's'}
        {checking ? ' (checking…)' : ''}
      </p>
      <ul className="issues">
        {result.errors.map((issue, i) => (
          <li key={i} data-line={issue.line}>
            <button type="button" className="issue" onClick={() => onJump(issue)}>
              <span className="issue-where">
                {issue.line !== undefined ? `Line ${issue.line}${issue.column !== undefined ? `:${issue.column}` : ''}` : 'Recipe'}
              </span>
              <code className="issue-pointer">{issue.pointer || '/'}</code>
              <span className="issue-message">{issue.message}</span>
              {issue.hint && <span className="issue-hint">{issue.hint}</span>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
