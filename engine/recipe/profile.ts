import os from 'node:os';
import type { Accelerator, Arch, Os, Platform } from './recipe.types.gen.js';

/**
 * A platform profile: the machine a plan is made for. `host` is this machine, as probed;
 * the named ones let a recipe author preview a plan for machines they do not have.
 */
export interface Profile {
  name: string;
  os: Os;
  arch: Arch;
  platform: Platform;
  accelerator: Accelerator;
  /** True when the profile describes the machine Orchard runs on (commands may really run). */
  host: boolean;
}

export const NAMED_PROFILES = ['darwin-arm64-metal', 'linux-x64-cuda', 'linux-x64-cpu', 'host'] as const;
export type ProfileName = (typeof NAMED_PROFILES)[number];

export function makeProfile(platform: Platform, accelerator: Accelerator, host = false): Profile {
  const [osName, arch] = platform.split('-') as [Os, Arch];
  return { name: `${platform}-${accelerator}`, os: osName, arch, platform, accelerator, host };
}

/** The host's platform string, or undefined on a platform Orchard does not know. */
export function hostPlatform(): Platform | undefined {
  const candidate = `${process.platform}-${os.arch()}`;
  const known: readonly string[] = ['darwin-arm64', 'darwin-x64', 'linux-x64', 'linux-arm64', 'win32-x64'];
  return known.includes(candidate) ? (candidate as Platform) : undefined;
}
