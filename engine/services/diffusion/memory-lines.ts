import type { MemoryPlacement } from './diffusion-engine.js';

/**
 * sd.cpp reports where weights and compute buffers live:
 *   INFO  "total params memory size = X MB (VRAM Y MB, RAM Z MB): text_encoders 1564.36MB(VRAM), diffusion_model …"
 *         (older builds name the modules clip/unet/pmid; both are read the same way)
 *   DEBUG "<runner> compute buffer size: N MB(VRAM|RAM)"  — RAM means that runner computes on the CPU.
 */
const PARAMS = /total params memory size = .*?\):\s*(.*)$/;
const MODULE = /([A-Za-z_][\w]*)\s+([\d.]+)\s*MB\((VRAM|RAM)\)/g;
const COMPUTE = /(\S+) compute buffer size:\s*([\d.]+)\s*MB\s*\((VRAM|RAM)\)/;

export function emptyPlacement(): MemoryPlacement {
  return { params: [], compute: [], evidence: [] };
}

/** Fold one log line into the placement; returns true when the line was a memory line. */
export function readMemoryLine(line: string, into: MemoryPlacement): boolean {
  const params = PARAMS.exec(line);
  if (params?.[1] !== undefined) {
    into.params = [];
    for (const m of params[1].matchAll(MODULE)) {
      if (m[1] === undefined || m[2] === undefined) continue;
      into.params.push({ module: m[1], mb: Number(m[2]), where: m[3] === 'RAM' ? 'RAM' : 'VRAM' });
    }
    const own = line.slice(Math.max(0, line.search(/\[(DEBUG|INFO |WARN |ERROR)\]/))).trim();
    into.evidence = [...into.evidence.filter((l) => !l.includes('total params memory size')), own];
    return true;
  }
  const compute = COMPUTE.exec(line);
  if (compute?.[1] !== undefined && compute[2] !== undefined) {
    const entry = { runner: compute[1], mb: Number(compute[2]), where: compute[3] === 'RAM' ? ('RAM' as const) : ('VRAM' as const) };
    const known = into.compute.findIndex((c) => c.runner === entry.runner);
    // A compute line may come glued after a step bar: keep only the log line itself as evidence.
    const evidenceLine = line.slice(Math.max(0, line.search(/\[(DEBUG|INFO |WARN |ERROR)\]/))).trim();
    if (known >= 0) into.compute[known] = entry;
    else into.compute.push(entry);
    if (!into.evidence.includes(evidenceLine)) into.evidence.push(evidenceLine);
    return true;
  }
  return false;
}
