/**
 * The sandbox's public surface (DESIGN §2): per-app folders, the app's environment variables,
 * Python/Node environments, path guards and OS confinement. Other parts import from here.
 */
export {
  type Confinement,
  type ConfinedCommand,
  type ConfinementMechanism,
  type ConfineOptions,
  type ProcessKind,
  type SandboxScope,
  appScope,
  bwrapArgs,
  confineArgv,
  confinedCommand,
  confinementDisabledByUser,
  defaultToolchains,
  detectConfinement,
  gpuDevices,
  resolveScope,
  sandboxExecProfile,
  sbplString,
} from './confinement.js';
export type { EnvParams } from './env-params.js';
export { OPT_IN_ONLY_VARIABLES, processEnvironment, sandboxVariables } from './environment.js';
export { findOnPath } from './find-on-path.js';
export { ensureAppLayout } from './layout.js';
export { ensureNodeEnv } from './node-env.js';
export { assertWritablePath, realExisting } from './path-guard.js';
export { type EnvBuildOptions, ensurePythonEnv, envBinDir, venvPython, withoutAppEnv } from './python-env.js';
