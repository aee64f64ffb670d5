import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Accelerator, Os } from '../recipe/recipe.types.gen.js';
import { runCommand, type RunCommand } from './command-runner.js';
import type { GpuInfo, MachineInfo } from './machine-info.js';
import { parseMeminfo } from './meminfo.js';
import { NVIDIA_QUERY_FIELDS, parseNvidiaSmiCsv, parseNvidiaSmiTable } from './nvidia-smi.js';
import { MAC_SYSCTL_KEYS, macSysctlFacts, parseSysctl } from './sysctl.js';
import { parseDisplays } from './system-profiler.js';
import { parseVulkanSummary } from './vulkaninfo.js';
import { gpuWorkingSetBytes } from './working-set.js';

/** Everything the probe touches, so tests can feed captured outputs instead of this machine's. */
export interface ProbeEnvironment {
  run: RunCommand;
  readText: (file: string) => Promise<string | undefined>;
  platform: NodeJS.Platform;
  arch: string;
  totalmem: () => number;
  freemem: () => number;
  cpus: () => { model: string }[];
}

const defaultEnvironment: ProbeEnvironment = {
  run: runCommand,
  readText: (file) => readFile(file, 'utf8').catch(() => undefined),
  platform: process.platform,
  arch: process.arch,
  totalmem: os.totalmem,
  freemem: os.freemem,
  cpus: os.cpus,
};

/** What this machine is and which accelerators it can use. Every field comes from a command's output or the OS. */
export async function probeMachine(environment: Partial<ProbeEnvironment> = {}): Promise<MachineInfo> {
  const env: ProbeEnvironment = { ...defaultEnvironment, ...environment };
  const cpuList = env.cpus();
  const base: MachineInfo = {
    os: osOf(env.platform),
    arch: env.arch === 'arm64' ? 'arm64' : 'x64',
    cpu: { brand: cpuList[0]?.model.trim() || 'unknown CPU', cores: cpuList.length },
    memory: { totalBytes: env.totalmem(), availableBytes: env.freemem() },
    unifiedMemory: false,
    gpus: [],
    accelerators: ['cpu'],
    sources: [],
  };
  if (env.platform === 'darwin') await probeMac(base, env);
  else if (env.platform === 'linux') await probeLinux(base, env);
  else base.sources.push({ name: 'platform', ok: false, note: `${env.platform}: only the CPU and memory are probed here` });
  base.accelerators = acceleratorsOf(base);
  return base;
}

async function probeMac(m: MachineInfo, env: ProbeEnvironment): Promise<void> {
  const sysctl = await env.run('sysctl', [...MAC_SYSCTL_KEYS]);
  const facts = macSysctlFacts(parseSysctl(sysctl.stdout));
  m.sources.push({ name: 'sysctl', ok: sysctl.ok && facts.memBytes !== undefined, ...(sysctl.note ? { note: sysctl.note } : {}) });
  if (facts.memBytes) m.memory.totalBytes = facts.memBytes;
  if (facts.model) m.model = facts.model;
  if (facts.cpuBrand) m.cpu.brand = facts.cpuBrand;
  if (facts.cpuCores) m.cpu.cores = facts.cpuCores;

  const sp = await env.run('system_profiler', ['SPDisplaysDataType', '-json'], { timeoutMs: 20_000 });
  const gpus = sp.ok ? parseDisplays(sp.stdout) : [];
  m.sources.push({
    name: 'system_profiler SPDisplaysDataType',
    ok: gpus.length > 0,
    ...(sp.note ? { note: sp.note } : gpus.length === 0 ? { note: 'no GPU in the output' } : {}),
  });
  m.gpus.push(...gpus);

  const appleSilicon = m.arch === 'arm64' || gpus.some((g) => g.vendor === 'apple');
  if (appleSilicon) {
    m.unifiedMemory = true;
    const ws = gpuWorkingSetBytes(m.memory.totalBytes, facts.wiredLimitMb);
    m.macos = { gpuWorkingSetBytes: ws.bytes, ...(facts.wiredLimitMb !== undefined ? { wiredLimitMb: facts.wiredLimitMb } : {}) };
    m.sources.push({
      name: 'gpu working set',
      ok: true,
      note:
        ws.source === 'estimate'
          ? 'estimated from RAM (2/3 up to 32 GiB, else 3/4): iogpu.wired_limit_mb is 0 or unknown'
          : `iogpu.wired_limit_mb=${facts.wiredLimitMb}`,
    });
  }
}

async function probeLinux(m: MachineInfo, env: ProbeEnvironment): Promise<void> {
  const meminfoText = await env.readText('/proc/meminfo');
  const mem = meminfoText ? parseMeminfo(meminfoText) : undefined;
  m.sources.push({ name: '/proc/meminfo', ok: mem !== undefined, ...(mem ? {} : { note: 'unreadable' }) });
  if (mem) m.memory = mem;

  const query = await env.run('nvidia-smi', [`--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits']);
  let nvidia: GpuInfo[] = query.ok ? parseNvidiaSmiCsv(query.stdout) : [];
  if (query.ok && nvidia.length === 0) {
    // Old drivers reject some query fields: fall back to the plain table.
    const plain = await env.run('nvidia-smi', []);
    nvidia = plain.ok ? parseNvidiaSmiTable(plain.stdout) : [];
  }
  m.sources.push({
    name: 'nvidia-smi',
    ok: nvidia.length > 0,
    ...(query.note ? { note: query.note } : nvidia.length === 0 ? { note: 'no NVIDIA GPU listed' } : {}),
  });
  m.gpus.push(...nvidia);

  const vk = await env.run('vulkaninfo', ['--summary']);
  const vulkan = vk.ok ? parseVulkanSummary(vk.stdout) : [];
  m.sources.push({
    name: 'vulkaninfo --summary',
    ok: vulkan.length > 0,
    ...(vk.note ? { note: vk.note } : vulkan.length === 0 ? { note: 'no Vulkan GPU listed' } : {}),
  });
  for (const v of vulkan) {
    const same = m.gpus.find((g) => g.vendor === v.vendor && (g.name.includes(v.name) || v.name.includes(g.name)));
    if (same) {
      if (!same.backends.includes('vulkan')) same.backends.push('vulkan');
    } else m.gpus.push(v);
  }
}

function acceleratorsOf(m: MachineInfo): Accelerator[] {
  const order: Accelerator[] = ['metal', 'cuda', 'rocm', 'vulkan'];
  const have = new Set<Accelerator>();
  for (const g of m.gpus) for (const b of g.backends) have.add(b);
  // Metal compute for ML needs Apple Silicon; an Intel Mac's Metal GPU is not offered.
  if (m.os === 'darwin' && !m.unifiedMemory) have.delete('metal');
  return [...order.filter((a) => have.has(a)), 'cpu'];
}

function osOf(platform: NodeJS.Platform): Os {
  return platform === 'darwin' ? 'darwin' : platform === 'win32' ? 'win32' : 'linux';
}
