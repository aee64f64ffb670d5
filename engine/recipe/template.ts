import { OrchardError } from '../core/errors.js';

/**
 * Safe substitution, never evaluation: `{{ name.path }}` is looked up in a flat table of known
 * variables. An unknown variable is an error, never left as raw text (Pinokio leaves unresolved
 * templates in place and then opens `{{input.event[0]}}` as a file path).
 */
const REFERENCE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const NAME = /^[a-zA-Z_][a-zA-Z0-9_-]*(\.[a-zA-Z0-9_-]+)*$/;

export interface TemplateRef {
  name: string;
  raw: string;
}

/** Every `{{ … }}` in a string. Throws on malformed braces so they cannot slip through as text. */
export function templateRefs(text: string, where: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const match of text.matchAll(REFERENCE)) {
    const name = match[1] ?? '';
    if (!NAME.test(name)) {
      throw new OrchardError('TEMPLATE', `"${match[0]}" is not a template variable name`, {
        where,
        hint: 'Templates are plain variable names such as {{app.dir}} or {{inputs.quant}}; expressions are not evaluated.',
      });
    }
    refs.push({ name, raw: match[0] });
  }
  const leftover = text.replace(REFERENCE, '');
  if (leftover.includes('{{') || leftover.includes('}}')) {
    throw new OrchardError('TEMPLATE', 'unbalanced "{{" or "}}" in a templated string', {
      where,
      hint: 'Write templates as {{name}}; braces cannot be escaped, so avoid literal "{{" in recipe strings.',
    });
  }
  return refs;
}

export type TemplateVars = ReadonlyMap<string, string>;

/** Substitute every reference; unknown names throw with the list of known ones. */
export function renderTemplate(text: string, vars: TemplateVars, where: string): string {
  for (const ref of templateRefs(text, where)) {
    if (!vars.has(ref.name)) throw unknownVariable(ref.name, vars, where);
  }
  return text.replace(REFERENCE, (_raw, name: string) => vars.get(name.trim()) ?? '');
}

export function unknownVariable(name: string, vars: TemplateVars, where: string): OrchardError {
  const known = [...vars.keys()].filter((k) => !k.startsWith('weights.') && !k.startsWith('inputs.'));
  let hint = `Known variables: ${known.join(', ')}, inputs.<name>, weights.<id>.path.`;
  if (name === 'port')
    hint =
      '{{port}} exists only inside "service": the supervisor allocates the port when it starts the service (start steps run before that).';
  else if (name.startsWith('inputs.')) hint = `Declare "${name.slice(7)}" under "inputs", or fix the name.`;
  else if (name.startsWith('weights.')) hint = `Declare a weight with that id under "weights" and use {{weights.<id>.path}}.`;
  return new OrchardError('TEMPLATE', `unknown template variable {{${name}}}`, { where, hint });
}

/** Apply `fn` to every string inside a JSON value (for `write` steps with `json`). */
export function mapStrings(value: unknown, fn: (text: string, pointer: string) => string, pointer = ''): unknown {
  if (typeof value === 'string') return fn(value, pointer);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, fn, `${pointer}/${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn, `${pointer}/${escapePointer(k)}`)]));
  }
  return value;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
