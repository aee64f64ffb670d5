import { OrchardError } from '../../core/errors.js';
import type { Profile } from '../../recipe/profile.js';

/**
 * The profile to plan for. Loaded lazily: `host` asks the hardware probe, which is another
 * engineer's module; until it lands, planning for `host` fails with a clear message instead of
 * the whole server failing to start.
 */
export async function profileFor(name = 'host'): Promise<Profile> {
  let resolveProfile: (name?: string) => Promise<Profile>;
  try {
    ({ resolveProfile } = await import('../../recipe/resolve-profile.js'));
  } catch (err) {
    throw new OrchardError('SERVICE', 'cannot resolve platform profiles: the hardware probe is not available', {
      where: 'engine/recipe/resolve-profile.ts',
      hint: 'Plan for a named profile (darwin-arm64-metal, linux-x64-cuda, linux-x64-cpu) meanwhile.',
      cause: err,
    });
  }
  return resolveProfile(name);
}
