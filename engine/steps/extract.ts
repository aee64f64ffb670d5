import { existsSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { OrchardError, messageOf } from '../core/errors.js';
import { isInside } from '../core/home.js';
import { assertWritablePath, realExisting } from '../../sandbox/index.js';
import type { StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

/**
 * Extract a .tar / .tar.gz / .tgz archive into the app folder. The whole archive is checked first
 * (absolute paths, `..`, links that lead outside, device files); one bad entry refuses it all,
 * before anything is written.
 */
export const extractStep: StepExecutor<'extract'> = async (step, ctx) => {
  const { archive, dest, strip } = step.params;
  const where = stepWhere(step);
  if (!existsSync(archive)) {
    throw new OrchardError('STEP_FAILED', `archive not found: ${archive}`, {
      where,
      hint: 'Check the "archive" path in the recipe (relative paths are resolved against the recipe folder).',
    });
  }
  await assertWritablePath(dest, { appRoot: ctx.app.root, store: ctx.home.store }, where);
  const { entries, links } = await checkArchive(archive, strip, where);
  await mkdir(dest, { recursive: true });
  const realDest = await realpath(dest);
  if (!isInside(await realpath(ctx.app.root), realDest)) {
    throw new OrchardError('PATH_ESCAPE', `the destination ${dest} resolves to ${realDest}, outside the app folder`, { where });
  }
  // Links must not lead outside through symlinks already on disk (e.g. from a cloned repo) either.
  for (const link of links) {
    const real = await realExisting(path.join(realDest, ...link.target));
    if (!isInside(realDest, real)) {
      throw new OrchardError(
        'ARCHIVE_UNSAFE',
        `refusing ${path.basename(archive)}: entry "${link.raw}" links to ${real}, outside the destination, through a link ` +
          `already in ${dest}; nothing was extracted`,
        {
          where,
          hint: 'Extract into an empty folder, or fix the archive.',
        },
      );
    }
  }
  ctx.log.line(`extracting ${entries} entries of ${archive} into ${realDest}${strip ? ` (strip ${strip})` : ''}`);
  try {
    await tar.x({ file: archive, cwd: realDest, strip, strict: true, preservePaths: false, preserveOwner: false, noChmod: false });
  } catch (err) {
    throw new OrchardError('STEP_FAILED', `could not extract ${archive}: ${messageOf(err)}`, {
      where,
      hint: 'The archive may be corrupt or use a format other than tar/tar.gz; re-download it or check the recipe.',
    });
  }
  ctx.log.line('extracted');
  return {};
};

const REFUSED_TYPES = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);

/**
 * Read every entry and refuse the archive if any would land outside the destination. Symlinks are
 * resolved physically through the archive's own symlinks (so `a -> .` then `a/..` is caught).
 * Returns the number of entries and where each link points (relative to the destination).
 */
export async function checkArchive(
  archive: string,
  strip: number,
  where: string,
): Promise<{ entries: number; links: { raw: string; target: string[] }[] }> {
  const entries: { path: string[]; type: string; linkpath?: string; raw: string }[] = [];
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        entries.push({
          path: splitTarPath(entry.path),
          type: entry.type,
          ...(entry.linkpath ? { linkpath: entry.linkpath } : {}),
          raw: entry.path,
        });
      },
    });
  } catch (err) {
    throw new OrchardError('STEP_FAILED', `could not read the archive ${archive}: ${messageOf(err)}`, {
      where,
      hint: 'Only .tar, .tar.gz and .tgz archives are supported; check that the file is complete.',
    });
  }
  const refuse = (raw: string, why: string) =>
    new OrchardError('ARCHIVE_UNSAFE', `refusing ${path.basename(archive)}: entry "${raw}" ${why}; nothing was extracted`, {
      where,
      hint: 'The archive is unsafe or corrupt. Use a trusted archive whose entries all stay inside the destination.',
    });

  const kept = entries.flatMap((e) => {
    if (isAbsoluteTarPath(e.raw)) throw refuse(e.raw, 'has an absolute path');
    if (e.path.includes('..')) throw refuse(e.raw, "contains '..'");
    if (REFUSED_TYPES.has(e.type)) throw refuse(e.raw, `is a ${e.type}, which an app archive never needs`);
    if (e.path.length <= strip) return [];
    return [{ ...e, path: e.path.slice(strip) }];
  });

  // Every symlink in the archive (by its path after strip); one path may not be both a link and something else.
  const links = new Map<string, string>();
  const kinds = new Map<string, string>();
  for (const e of kept) {
    const key = e.path.join('/');
    const before = kinds.get(key);
    if (before && (before === 'SymbolicLink') !== (e.type === 'SymbolicLink'))
      throw refuse(e.raw, 'is both a link and a file or folder in this archive');
    kinds.set(key, e.type);
    if (e.type === 'SymbolicLink') links.set(key, e.linkpath ?? '');
  }
  const symlinkPrefix = (parts: string[]) => parts.slice(0, -1).some((_, i) => links.has(parts.slice(0, i + 1).join('/')));

  const linkTargets: { raw: string; target: string[] }[] = [];
  for (const e of kept) {
    if (symlinkPrefix(e.path)) throw refuse(e.raw, 'is written through a symbolic link of the archive');
    if (e.type === 'SymbolicLink') {
      const target = e.linkpath ?? '';
      if (target === '' || isAbsoluteTarPath(target)) throw refuse(e.raw, `is a symbolic link to an absolute path (${target})`);
      const resolved = resolveInArchive([...e.path.slice(0, -1), ...splitTarPath(target)], links);
      if (resolved === undefined) throw refuse(e.raw, `is a symbolic link that leads outside the destination (${target})`);
      linkTargets.push({ raw: e.raw, target: resolved });
    }
    if (e.type === 'Link') {
      const target = e.linkpath ?? '';
      if (isAbsoluteTarPath(target)) throw refuse(e.raw, `is a hard link to an absolute path (${target})`);
      const parts = splitTarPath(target);
      if (parts.includes('..')) throw refuse(e.raw, `is a hard link that leads outside the destination (${target})`);
      if (parts.length <= strip) throw refuse(e.raw, `is a hard link whose target (${target}) is removed by strip`);
      const resolved = resolveInArchive(parts.slice(strip), links);
      if (resolved === undefined) throw refuse(e.raw, `is a hard link that leads outside the destination (${target})`);
      linkTargets.push({ raw: e.raw, target: resolved });
    }
  }
  return { entries: kept.length, links: linkTargets };
}

/** Follow `parts` from the destination root through the archive's symlinks; undefined when it escapes. */
function resolveInArchive(parts: string[], links: ReadonlyMap<string, string>, depth = 0): string[] | undefined {
  if (depth > 40) return undefined; // a link loop: refuse rather than guess
  let current: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return undefined;
      current.pop();
      continue;
    }
    current.push(part);
    const link = links.get(current.join('/'));
    if (link !== undefined) {
      if (isAbsoluteTarPath(link)) return undefined;
      const resolved = resolveInArchive([...current.slice(0, -1), ...splitTarPath(link)], links, depth + 1);
      if (resolved === undefined) return undefined;
      current = resolved;
    }
  }
  return current;
}

function splitTarPath(p: string): string[] {
  return p
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.');
}

function isAbsoluteTarPath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p);
}
