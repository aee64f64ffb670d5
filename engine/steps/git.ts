import { existsSync } from 'node:fs';
import { mkdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { OrchardError, messageOf } from '../core/errors.js';
import { isLocalGitSource } from '../recipe/plan.js';
import { assertWritablePath } from '../../sandbox/index.js';
import { confineStepCommand } from './confine.js';
import type { StepContext, StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

/**
 * Clone `url` into `dest` and check out the pinned ref (a branch or tag is allowed; the plan flags
 * it). The clone is made beside the app in tmp/ and only its .git is moved into place, so a
 * crash leaves either no repository or a complete one whose checkout the next run finishes.
 * Records `{ commit }`.
 *
 * The repository may have been prepared by an earlier run step (hooks, core.fsmonitor, filters in
 * .git/config), so every git command runs confined like a run step AND with every config-driven
 * program git could start turned off (`GIT_SAFETY`).
 */
export const gitStep: StepExecutor<'git'> = async (step, ctx) => {
  const { url, ref, pinned, dest, submodules } = step.params;
  const where = stepWhere(step);
  const roots = { appRoot: ctx.app.root, store: ctx.home.store };
  await assertWritablePath(dest, roots, where);
  await mkdir(dest, { recursive: true });
  const git = gitIn(dest, ctx, url);
  const fail = (what: string, err: unknown, hint: string) =>
    new OrchardError(ctx.signal.aborted ? 'CANCELLED' : 'STEP_FAILED', `${what}: ${firstLine(messageOf(err))}`, {
      where,
      hint: `${hint} Log: ${ctx.log.file}`,
    });

  let fresh = false;
  if (!(await isRepository(dest, git))) {
    await cloneInto(step.key, url, dest, ctx, roots, where).catch((err: unknown) => {
      throw fail(`git clone of ${url} failed`, err, 'Check the URL and your network (or credentials for a private repository).');
    });
    fresh = true;
  }
  try {
    await git.raw(['remote', 'set-url', 'origin', url]);
  } catch (err) {
    throw fail(`could not set the remote of ${dest}`, err, 'Remove the folder and run install again.');
  }

  let commit = await resolveRef(git, ref, pinned);
  if (!commit || !pinned) {
    if (!fresh) {
      ctx.log.line(`fetching ${url}`);
      await git.raw(['fetch', '--tags', '--force', 'origin']).catch((err: unknown) => {
        throw fail(`git fetch from ${url} failed`, err, 'Check the URL and your network.');
      });
    }
    commit = await resolveRef(git, ref, pinned);
  }
  if (!commit) {
    throw new OrchardError('STEP_FAILED', `${pinned ? 'commit' : 'ref'} "${ref}" was not found in ${url}`, {
      where,
      hint: 'Check the "ref" in the recipe: a full commit hash, or a branch or tag that exists in the repository.',
    });
  }

  const head = await git
    .raw(['rev-parse', 'HEAD'])
    .then((h) => h.trim())
    .catch(() => undefined);
  const tracked = head === commit ? await git.raw(['status', '--porcelain', '--untracked-files=no']).catch(() => 'unknown') : 'different';
  if (head === commit && tracked.trim() === '') {
    ctx.log.line(`already at ${commit}`);
  } else {
    ctx.log.line(`checking out ${commit}${pinned ? '' : ` (${ref})`}`);
    await git.raw(['checkout', '--force', '--detach', commit]).catch((err: unknown) => {
      throw fail(`git checkout of ${commit} failed`, err, 'Run install again; if it keeps failing, remove the folder.');
    });
  }
  if (submodules) {
    ctx.log.line('updating submodules');
    await git.raw(['submodule', 'sync', '--recursive']).catch(() => undefined);
    await git.raw(['submodule', 'update', '--init', '--recursive', '--force']).catch((err: unknown) => {
      throw fail('git submodule update failed', err, 'Check that the submodule URLs are reachable.');
    });
  }
  return { outputs: { commit } };
};

/** Clone without a checkout into tmp/, then move the finished .git into dest (which may hold files). */
async function cloneInto(
  key: string,
  url: string,
  dest: string,
  ctx: StepContext,
  roots: { appRoot: string; store: string },
  where: string,
): Promise<void> {
  const partial = path.join(ctx.app.tmp, `git-clone-${key.replace(/[^\w.-]+/g, '_')}`);
  await assertWritablePath(partial, roots, where);
  await rm(partial, { recursive: true, force: true });
  await mkdir(path.dirname(partial), { recursive: true });
  await rm(path.join(dest, '.git'), { recursive: true, force: true }); // a broken one
  ctx.log.line(`cloning ${url}`);
  await gitIn(path.dirname(partial), ctx, url).raw(['clone', '--no-checkout', '--progress', '--', url, partial]);
  await rename(path.join(partial, '.git'), path.join(dest, '.git'));
  await rm(partial, { recursive: true, force: true });
}

async function isRepository(dest: string, git: Git): Promise<boolean> {
  if (!existsSync(path.join(dest, '.git'))) return false;
  try {
    // The repository must be dest itself (not a parent folder's) and readable.
    const top = (await git.raw(['rev-parse', '--show-toplevel'])).trim();
    return path.resolve(top) === (await realpath(dest));
  } catch {
    return false;
  }
}

/** The full commit a ref names: a hash as is, else origin's branch, then a tag, then anything git accepts. */
async function resolveRef(git: Git, ref: string, pinned: boolean): Promise<string | undefined> {
  const candidates = pinned ? [ref] : [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref];
  for (const candidate of candidates) {
    try {
      const hash = (await git.raw(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`])).trim();
      if (/^[0-9a-f]{40,64}$/.test(hash)) return hash;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Config that would make git start other programs, turned off on the command line (which wins over
 * every config file, including a planted .git/config and its include.path): hooks, the fsmonitor,
 * ssh and proxy commands, credential helpers and askpass, the ext:: transport, an external diff.
 */
export const GIT_SAFETY = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.sshCommand=ssh',
  '-c',
  'core.gitProxy=',
  '-c',
  'core.askPass=',
  '-c',
  'credential.helper=',
  '-c',
  'protocol.ext.allow=never',
  '-c',
  'diff.external=',
  '-c',
  'core.pager=cat',
  '-c',
  'submodule.recurse=false',
];

interface Git {
  raw(args: string[]): Promise<string>;
}

/** git in `dir`, confined (network only for a remote URL; a local source bound read-only), its stderr in the step log. */
function gitIn(dir: string, ctx: StepContext, url: string): Git {
  const local = isLocalGitSource(url);
  const source = local ? localSourcePath(url, dir) : undefined;
  return {
    async raw(args: string[]): Promise<string> {
      const confined = await confineStepCommand(ctx, 'git', ['git', ...GIT_SAFETY, ...args], {
        network: !local,
        cwd: dir,
        ...(source ? { readOnly: [source] } : {}),
      });
      const [file, ...rest] = confined.argv as [string, ...string[]];
      const child = execa(file, rest, {
        cwd: dir,
        env: gitEnvironment(ctx.processEnv),
        extendEnv: false,
        stdin: 'ignore',
        cancelSignal: ctx.signal,
        reject: false,
      });
      const errLines: string[] = [];
      if (child.stderr) {
        createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
          // git progress rewrites one line with \r: keep the last state only.
          const text = line.split('\r').filter(Boolean).pop();
          if (!text) return;
          ctx.log.line(text, 'stderr');
          errLines.push(text);
        });
      }
      const result = await child;
      if (result.exitCode !== 0) {
        throw new Error(
          `git ${args[0] ?? ''} ` +
            `${result.isCanceled ? 'was cancelled' : `exited with ${result.exitCode ?? result.signal ?? '?'}`}: ` +
            `${errLines.slice(-3).join(' ')}`,
        );
      }
      return typeof result.stdout === 'string' ? result.stdout : '';
    },
  };
}

function localSourcePath(url: string, base: string): string | undefined {
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : path.resolve(base, url);
  } catch {
    return undefined;
  }
}

/** The app's environment for git: no inherited GIT_* variables, no system config, never prompting. */
function gitEnvironment(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (/^(GIT_|EDITOR$|PAGER$|PREFIX$|SSH_ASKPASS$)/i.test(name)) continue;
    out[name] = value;
  }
  out['GIT_TERMINAL_PROMPT'] = '0';
  // The system config is the machine's, not the app's; the "global" one is the app's own HOME/.gitconfig.
  out['GIT_CONFIG_NOSYSTEM'] = '1';
  return out;
}

function firstLine(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-3)
    .join(' ');
}
