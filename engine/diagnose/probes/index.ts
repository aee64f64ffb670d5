import { OrchardError } from '../../core/errors.js';
import type { VerifyParams } from '../../recipe/plan-types.js';
import type { Verdict } from '../verdict.js';
import { probeCommand } from './command.js';
import { probeLlm } from './llm.js';
import { probeMlx } from './mlx.js';
import { probePythonTorch } from './python-torch.js';
import type { ProbeProcessOptions } from './run-probe-process.js';
import { probeSdcpp } from './sdcpp.js';

/** Run the recipe's verify probe in the app's environment and return its verdict. */
export async function runVerifyProbe(params: VerifyParams, o: ProbeProcessOptions): Promise<Verdict> {
  const { probe, expect } = params;
  switch (probe.type) {
    case 'python-torch':
      return probePythonTorch(expect, o);
    case 'mlx':
      return probeMlx(expect, o);
    case 'llm':
      if (!probe.model)
        throw new OrchardError('RECIPE_INVALID', 'the llm probe needs "model" (the GGUF to load)', {
          where: '/verify/probe/model',
          hint: 'Add "model": "{{app.models}}/<file>.gguf".',
        });
      return probeLlm(probe.model, expect, o);
    case 'sdcpp':
      if (!probe.binary)
        throw new OrchardError('RECIPE_INVALID', 'the sdcpp probe needs "binary" (the sd-cli or sd-server program)', {
          where: '/verify/probe/binary',
          hint: 'Add "binary": "{{app.dir}}/build/bin/sd-server".',
        });
      return probeSdcpp(probe.binary, expect, o);
    case 'command':
      if (!probe.command?.length)
        throw new OrchardError('RECIPE_INVALID', 'the command probe needs "command"', {
          where: '/verify/probe/command',
          hint: 'Add "command": ["python", "check.py"].',
        });
      return probeCommand(probe.command, expect, o);
  }
}
export { probeMlx } from './mlx.js';
