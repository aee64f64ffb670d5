import { OrchardError } from '../core/errors.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { probeMachine } from '../hardware/probe.js';
import { hostPlatform, makeProfile, NAMED_PROFILES, type Profile } from './profile.js';

/**
 * `--profile NAME` → a Profile; `host` asks the hardware probe which accelerator this machine really
 * has (`probe` lets a caller that plans many recipes reuse one probe).
 */
export async function resolveProfile(name = 'host', probe: () => Promise<MachineInfo> = probeMachine): Promise<Profile> {
  switch (name) {
    case 'darwin-arm64-metal':
      return makeProfile('darwin-arm64', 'metal');
    case 'linux-x64-cuda':
      return makeProfile('linux-x64', 'cuda');
    case 'linux-x64-cpu':
      return makeProfile('linux-x64', 'cpu');
    case 'host': {
      const platform = hostPlatform();
      if (!platform) throw new OrchardError('REQUIREMENT', `Orchard does not support ${process.platform}-${process.arch}`);
      const machine = await probe();
      return { ...makeProfile(platform, machine.accelerators[0] ?? 'cpu', true), name: 'host' };
    }
    default:
      throw new OrchardError('USAGE', `unknown profile "${name}"`, { hint: `Profiles: ${NAMED_PROFILES.join(', ')}.` });
  }
}
