import type { ErrorObject } from 'ajv';

/** One problem in a recipe, located by JSON pointer. */
export interface RecipeIssue {
  pointer: string;
  message: string;
  hint?: string;
}

type SchemaNode = { description?: string; properties?: Record<string, SchemaNode>; enum?: unknown[] };

/**
 * Turn ajv's raw errors into issues a recipe author can act on: unknown keys point at the key,
 * missing keys at where the key belongs, and the noise of union branches collapses into one line.
 */
export function issuesFromSchemaErrors(errors: readonly ErrorObject[]): RecipeIssue[] {
  // A bad key under `propertyNames` is reported twice (the pattern, then a summary): keep the first.
  const list = errors.filter((e) => e.keyword !== 'propertyNames');
  const unions = list.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const consumed = new Set<ErrorObject>(unions);
  const merged: RecipeIssue[] = [];

  for (const union of unions) {
    // ajv reports a union's branch errors just before the union's own error. Their schemaPath is
    // not always under the union's (a branch that is a $ref reports `#/$defs/...`), so take the
    // contiguous run before it that lies at or below the union's instance.
    const children: ErrorObject[] = [];
    for (let i = list.indexOf(union) - 1; i >= 0; i--) {
      const e = list[i]!;
      if (consumed.has(e) || !(e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`))) break;
      children.unshift(e);
    }
    const deeper = children.filter((e) => e.instancePath.length > union.instancePath.length);
    // A branch that got further (a bad item inside an array) explains more than "wrong type".
    const shallow = children.filter((e) => !deeper.includes(e));
    shallow.forEach((e) => consumed.add(e));
    if (deeper.length === 0) {
      const alternatives = [...new Set(shallow.map((e) => describe(e).message))];
      merged.push({ pointer: union.instancePath, message: alternatives.join(', or ') || 'does not match any allowed form' });
    }
  }

  return dedupeIssues([...merged, ...list.filter((e) => !consumed.has(e)).map(describe)]);
}

/** The same problem reported twice (by two union branches, or two checks) is shown once. */
export function dedupeIssues(issues: readonly RecipeIssue[]): RecipeIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describe(e: ErrorObject): RecipeIssue {
  const parent = (e.parentSchema ?? {}) as SchemaNode;
  const params = e.params as Record<string, unknown>;
  if (e.propertyName !== undefined) {
    return {
      pointer: `${e.instancePath}/${escapePointer(e.propertyName)}`,
      message: `"${e.propertyName}" is not an allowed name here${e.keyword === 'pattern' ? ` (${String(params['pattern'])})` : ''}`,
      hint: 'Names are letters, digits and underscores, not starting with a digit.',
    };
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys(parent.properties ?? {});
      return {
        pointer: `${e.instancePath}/${escapePointer(key)}`,
        message: `unknown key "${key}"`,
        hint: allowed.length > 0 ? `Allowed keys here: ${allowed.join(', ')}.` : 'Remove it.',
      };
    }
    case 'required': {
      const key = String(params['missingProperty']);
      const description = parent.properties?.[key]?.description;
      return {
        pointer: `${e.instancePath}/${escapePointer(key)}`,
        message: `missing required key "${key}"`,
        ...(description ? { hint: description } : {}),
      };
    }
    case 'discriminator': {
      const value = params['tagValue'];
      return {
        pointer: `${e.instancePath}/kind`,
        message: params['error'] === 'mapping' ? `unknown step kind "${String(value)}"` : 'a step needs a string "kind"',
        hint: 'Step kinds: git, extract, env, run, write, fetch, link, verify.',
      };
    }
    case 'enum':
      return {
        pointer: e.instancePath,
        message: `must be one of: ${((params['allowedValues'] as unknown[]) ?? []).map(String).join(', ')}`,
        hint: parent.description ?? 'Use one of the listed values, spelled exactly.',
      };
    case 'const':
      return {
        pointer: e.instancePath,
        message: `must be "${String(params['allowedValue'])}"`,
        ...(parent.description ? { hint: parent.description } : {}),
      };
    case 'pattern':
      return {
        pointer: e.instancePath,
        message: `does not have the expected form (${String(params['pattern'])})`,
        ...(parent.description ? { hint: parent.description } : {}),
      };
    case 'type':
      return {
        pointer: e.instancePath,
        message: `must be ${article(String(params['type']))}`,
        ...(parent.description ? { hint: parent.description } : {}),
      };
    default:
      return {
        pointer: e.instancePath,
        message: e.message ?? e.keyword,
        ...(parent.description ? { hint: parent.description } : {}),
      };
  }
}

function article(type: string): string {
  const names = type.split(',').map((t) => (t === 'integer' ? 'an integer' : t === 'array' || t === 'object' ? `an ${t}` : `a ${t}`));
  return names.join(' or ');
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
