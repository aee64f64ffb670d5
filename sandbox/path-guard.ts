import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../engine/core/errors.js';
import { isInside } from '../engine/core/home.js';

/**
 * Defence in depth for every path a step writes: it must lie inside the app folder or the store,
 * both as written and once symlinks in its existing ancestors are resolved (a cloned repo could
 * ship `app/sub -> /etc`).
 */
export async function assertWritablePath(target: string, roots: { appRoot: string; store: string }, where: string): Promise<void> {
  const allowed = [roots.appRoot, roots.store];
  const abs = path.resolve(target);
  const fail = (detail: string) =>
    new OrchardError('PATH_ESCAPE', `refusing to write ${abs}: ${detail}`, {
      where,
      hint: `A recipe may only write inside its app folder (${roots.appRoot}) or the model store; fix the path in the recipe.`,
    });
  if (!allowed.some((root) => isInside(root, abs))) throw fail('it is outside the app folder and the store');
  const realRoots = await Promise.all(allowed.map((root) => realExisting(root)));
  const realTarget = await realExisting(abs);
  if (!realRoots.some((root) => isInside(root, realTarget))) {
    throw fail(`a symbolic link on the way leads to ${realTarget}, outside the app folder`);
  }
}

/** realpath of the nearest existing ancestor, with the missing tail appended unchanged. */
export async function realExisting(p: string): Promise<string> {
  const tail: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(await realpath(current), ...tail.reverse());
    } catch {
      const up = path.dirname(current);
      if (up === current) return p;
      tail.push(path.basename(current));
      current = up;
    }
  }
}
