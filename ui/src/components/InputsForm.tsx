import type { PlanResponse } from '../../../engine/api/api-types.js';
import { choiceLabel } from '../../../shared/choice-need.js';

type InputSpecs = PlanResponse['inputSpecs'];
type ChoiceNeeds = NonNullable<PlanResponse['choiceNeeds']>;

/**
 * The recipe's inputs (quantization, context…) as form fields; values travel as strings. A choice
 * that changes the download or the memory need shows both on each option (from the plan).
 */
export function InputsForm({
  specs,
  needs,
  values,
  onChange,
}: {
  specs: InputSpecs;
  needs?: ChoiceNeeds | undefined;
  values: Record<string, string>;
  onChange: (values: Record<string, string>) => void;
}) {
  const names = Object.keys(specs);
  if (names.length === 0) return null;
  return (
    <fieldset className="inputs-form">
      <legend>Choices</legend>
      {names.map((name) => {
        const spec = specs[name];
        if (!spec) return null;
        const value = values[name] ?? String(spec.default);
        const id = `input-${name}`;
        const set = (v: string) => onChange({ ...values, [name]: v });
        return (
          <div key={name} className="field">
            <label htmlFor={id}>{spec.title ?? name}</label>
            {spec.type === 'choice' && spec.choices ? (
              <select id={id} value={value} onChange={(e) => set(e.target.value)}>
                {spec.choices.map((c) => (
                  <option key={c} value={c}>
                    {choiceLabel(c, needs?.[name]?.[c])}
                  </option>
                ))}
              </select>
            ) : spec.type === 'boolean' ? (
              <select id={id} value={value} onChange={(e) => set(e.target.value)}>
                <option>true</option>
                <option>false</option>
              </select>
            ) : (
              <input id={id} type={spec.type === 'number' ? 'number' : 'text'} value={value} onChange={(e) => set(e.target.value)} />
            )}
            {spec.description && <small className="muted">{spec.description}</small>}
          </div>
        );
      })}
    </fieldset>
  );
}
