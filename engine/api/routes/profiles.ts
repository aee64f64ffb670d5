import { OrchardError } from '../../core/errors.js';
import { hostPlatform, makeProfile, type Profile } from '../../recipe/profile.js';

let warned = false;

/**
 * The profile to plan for. resolve-profile is loaded lazily because `host` needs the hardware
 * probe (another engineer's module): while that module is missing from the build, `host` falls
 * back to this platform with the CPU accelerator and says so once in the server log, instead of the
 * whole server failing to load.
 */
export async function profileFor(name = 'host', log: (line: string) => void = () => undefined): Promise<Profile> {
  let resolveProfile: (name?: string) => Promise<Profile>;
  try {
    ({ resolveProfile } = await import('../../recipe/resolve-profile.js'));
  } catch (err) {
    const missingProbe = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('hardware');
    const platform = hostPlatform();
    if (!missingProbe || !platform) throw err;
    if (!warned) {
      warned = true;
      log('the hardware probe is not in this build: planning for this platform with the CPU accelerator');
    }
    if (name === 'host') return { ...makeProfile(platform, 'cpu', true), name: 'host' };
    throw new OrchardError('USAGE', `profile "${name}" cannot be resolved in this build`, { hint: 'Plan for the host profile.' });
  }
  return resolveProfile(name);
}
