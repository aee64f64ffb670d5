import { isOrchardError } from '../core/errors.js';
import type { RecipeIssue } from './schema-errors.js';
import { renderTemplate, type TemplateVars } from './template.js';
import { resolveRecipePath, type PathRoots, type PathRule } from './recipe-paths.js';

/**
 * Substitutes templates and checks paths, collecting every problem with its JSON pointer instead
 * of stopping at the first: validation reports them all, planning refuses when there is any.
 */
export class Resolver {
  readonly issues: RecipeIssue[] = [];

  constructor(
    private readonly vars: TemplateVars,
    readonly roots: PathRoots,
  ) {}

  text(value: string, pointer: string): string {
    try {
      const rendered = renderTemplate(value, this.vars, pointer);
      // A NUL byte ends a C string: a path or argument holding one would mean two different things.
      // One written in the recipe itself is validation's to report; here, one an input brought in.
      if (rendered.includes('\0') && !value.includes('\0')) {
        this.issue(
          pointer,
          'contains a NUL byte (\\u0000) from a substituted value',
          'Remove the NUL character from the input; no path, argument or value may contain one.',
        );
      }
      return rendered;
    } catch (err) {
      this.record(err, pointer);
      return value;
    }
  }

  path(value: string, rule: PathRule, pointer: string): string {
    const rendered = this.text(value, pointer);
    try {
      return resolveRecipePath(rendered, rule, this.roots, pointer);
    } catch (err) {
      this.record(err, pointer);
      return rendered;
    }
  }

  issue(pointer: string, message: string, hint?: string): void {
    this.issues.push({ pointer, message, ...(hint ? { hint } : {}) });
  }

  private record(err: unknown, pointer: string): void {
    if (!isOrchardError(err)) throw err;
    this.issue(err.where ?? pointer, err.message, err.hint);
  }
}
