import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import { findTooDeep, tooDeepMessage } from '../core/json-depth.js';
import { findSyntaxProblem } from './pointer-location.js';
import type { Recipe } from './recipe.types.gen.js';
import type { RecipeIssue } from './schema-errors.js';
import { validateRecipe } from './validate.js';

export interface LoadedRecipe {
  recipe: Recipe;
  /** Absolute path of recipe.json. */
  file: string;
  /** Its folder (the recipe may ship files there, read only). */
  dir: string;
}

/** A recipe that failed validation: every issue, each printable as `file:pointer: message`. */
export class RecipeInvalidError extends OrchardError {
  readonly file: string;
  readonly issues: RecipeIssue[];

  constructor(file: string, issues: RecipeIssue[]) {
    const first = issues[0];
    super('RECIPE_INVALID', `${file} is not a valid recipe (${issues.length} problem${issues.length === 1 ? '' : 's'})`, {
      where: first ? `${file}:${first.pointer || '/'}` : file,
      hint: 'Fix the problems listed; `orchard recipe validate <file>` checks it again. docs/recipes.md describes every field.',
    });
    this.file = file;
    this.issues = issues;
  }

  override format(): string {
    return [
      this.message,
      ...this.issues.map((i) => `  ${this.file}:${i.pointer || '/'}: ${i.message}${i.hint ? `\n      ${i.hint}` : ''}`),
    ].join('\n');
  }
}

/** Read a recipe file (or a folder holding recipe.json), parse and validate it. */
export async function loadRecipe(fileOrDir: string): Promise<LoadedRecipe> {
  const { file, text } = await readRecipeText(fileOrDir);
  const parsed = parseRecipeJson(text, file);
  const result = validateRecipe(parsed);
  if (!result.ok) throw new RecipeInvalidError(file, result.errors);
  return { recipe: result.recipe, file, dir: path.dirname(file) };
}

/** Recipes are small: anything bigger is refused before it is read. */
export const MAX_RECIPE_BYTES = 1024 * 1024;

export async function readRecipeText(fileOrDir: string): Promise<{ file: string; text: string }> {
  let file = path.resolve(fileOrDir);
  let handle: FileHandle | undefined;
  try {
    if ((await stat(file)).isDirectory()) file = path.join(file, 'recipe.json');
    // Non-blocking, so a FIFO planted as recipe.json cannot hang the reader; then only regular files.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile())
      throw new OrchardError('RECIPE_INVALID', `${file} is not a regular file`, { where: file, hint: 'A recipe is a JSON file.' });
    if (info.size > MAX_RECIPE_BYTES) {
      throw new OrchardError('RECIPE_INVALID', `${file} is ${info.size} bytes; recipes are at most ${MAX_RECIPE_BYTES}`, {
        where: file,
        hint: 'A recipe is a small JSON file.',
      });
    }
    return { file, text: await handle.readFile('utf8') };
  } catch (err) {
    if (err instanceof OrchardError) throw err;
    throw new OrchardError('RECIPE_NOT_FOUND', `cannot read recipe ${file}`, {
      where: file,
      hint: 'Give a recipe.json, a folder holding one, or the id of a recipe from `orchard list`.',
      cause: err,
    });
  } finally {
    await handle?.close();
  }
}

/** JSON.parse, with a syntax error located by line and column (pointer-location.ts; Node's message often has no position). */
export function parseRecipeJson(text: string, file: string): unknown {
  const deep = findTooDeep(text);
  if (deep)
    throw new RecipeInvalidError(file, [
      { pointer: deep.pointer, message: tooDeepMessage(deep), hint: 'Recipes are never that deep: flatten it.' },
    ]);
  try {
    return JSON.parse(text);
  } catch (err) {
    const problem = findSyntaxProblem(text);
    const detail = problem
      ? `line ${problem.line}, column ${problem.column}: ${problem.message}`
      : oneLine(err instanceof Error ? err.message : String(err));
    throw new RecipeInvalidError(file, [
      { pointer: '', message: `invalid JSON at ${detail}`, hint: 'Check for a missing comma, quote or bracket near that place.' },
    ]);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
