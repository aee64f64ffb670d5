import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { readModelHeaders } from '../fit/model-headers.js';
import { modelShape } from '../fit/model-shape.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { clusterPaths, findHost } from './hosts.js';
import { nodeBudget } from './peer-info.js';
import { planClusterSplit, type ClusterSplit } from './split.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export interface ClusterFitReport extends ClusterSplit {
  model: { architecture: string; name?: string; layers: number; weightsBytes: number };
  contextSize: number;
  /** Per node over budget whose Metal working set can be raised enough: the exact command for that node. */
  raiseLimit: { node: string; command: string; valueMb: number }[];
  note: string;
}

/**
 * `orchard fit <model> --hosts a,b`: the per-node plan of a model over this machine (the head) and
 * the named cluster hosts, with the budgets they reported when they were added or last checked.
 */
export async function clusterFit(
  model: string,
  hostNames: string[],
  o: { home: OrchardHome; machine: MachineInfo; contextSize?: number; headers?: Record<string, string> },
): Promise<ClusterFitReport> {
  const paths = clusterPaths(o.home);
  const hosts = await Promise.all(hostNames.map((n) => findHost(paths, n)));
  const headers = await readModelHeaders(model, o.headers ? { headers: o.headers } : {});
  const shape = modelShape(headers);
  const contextSize = o.contextSize ?? Math.min(shape.trainContext, 4096);
  const head = nodeBudget(o.machine);
  const nodes = [
    ...hosts.map((h) => {
      if (!h.peer)
        throw new OrchardError('USAGE', `cluster host ${h.name} has not reported its memory budget`, {
          hint: `Run \`orchard cluster doctor\` to check it.`,
        });
      return { name: h.name, budgetBytes: h.peer.budgetBytes, device: true, ram: h.peer.ramBytes, accelerator: h.peer.accelerator };
    }),
    {
      name: 'head',
      budgetBytes: head.budgetBytes,
      device: head.accelerator !== 'cpu',
      head: true,
      ram: o.machine.memory.totalBytes,
      accelerator: head.accelerator,
    },
  ];
  const split = planClusterSplit(shape, headers, nodes, { contextSize });
  const raiseLimit: ClusterFitReport['raiseLimit'] = [];
  for (const placed of split.nodes.filter((n) => !n.fits)) {
    const node = nodes.find((n) => n.name === placed.name);
    if (!node || node.accelerator !== 'metal' || node.ram === undefined) continue;
    // Raising iogpu.wired_limit_mb helps only while macOS keeps enough RAM for itself (8 GiB, or 10%).
    const needMb = Math.ceil((placed.bytes.total + GiB) / MiB / 1024) * 1024;
    if (needMb * MiB <= node.ram - Math.max(8 * GiB, node.ram * 0.1)) {
      raiseLimit.push({ node: placed.name, command: `sudo sysctl iogpu.wired_limit_mb=${needMb}`, valueMb: needMb });
    }
  }
  const name = shape.name;
  return {
    ...split,
    model: { architecture: shape.architecture, ...(name ? { name } : {}), layers: shape.layers, weightsBytes: shape.weightsBytes },
    contextSize,
    raiseLimit,
    advice: [
      ...split.advice,
      ...raiseLimit.map((r) => `On ${r.node}, raising the GPU limit makes its share fit: ${r.command} (until the next restart).`),
    ],
    note: 'A cluster buys memory, not speed: each token still passes every node in turn, so decode runs at about single-node speed.',
  };
}

export function formatClusterFit(r: ClusterFitReport): string {
  const g = (b: number) => (b >= GiB / 10 ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(2)} MiB`);
  const lines = [
    `${r.model.name ?? r.model.architecture}: ${r.model.layers} layers, ${g(r.model.weightsBytes)} of weights, context ${r.contextSize}`,
    `-ts ${r.tensorSplit.join(',')}`,
  ];
  for (const n of r.nodes) {
    const layers = n.layers ? `layers ${n.layers[0]}–${n.layers[1]}` : 'no layers';
    lines.push(
      `${n.fits ? 'ok  ' : 'OVER'} ${n.name}${n.head ? ' (head)' : ''}: ${layers}${n.output ? ' + output' : ''}; weights ` +
        `${g(n.bytes.weights)} + KV ${g(n.bytes.kv)} + compute ${g(n.bytes.compute)} = ${g(n.bytes.total)} of ${g(n.budgetBytes)}`,
    );
  }
  lines.push(`verdict: ${r.fits ? 'fits' : 'does-not-fit'}`, ...r.advice, r.note);
  return lines.join('\n');
}
