import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** A trained LoRA adapter: a folder with adapters.safetensors (+ adapter_config.json), as mlx_lm.lora writes it. */
export interface AdapterEntry {
  /** The model name clients use: `<base model id>:<folder name>`. */
  id: string;
  name: string;
  dir: string;
  created: number;
}

export const ADAPTER_FILE = 'adapters.safetensors';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * The adapters in `root` (one folder each), read on every call so an adapter that a LoRA run just
 * finished shows up as a new model without restarting the service.
 */
export function listAdapters(root: string | undefined, baseId: string): AdapterEntry[] {
  if (!root || !existsSync(root)) return [];
  const out: AdapterEntry[] = [];
  for (const name of readdirSync(root).sort()) {
    if (!NAME.test(name)) continue;
    const dir = path.join(root, name);
    const file = path.join(dir, ADAPTER_FILE);
    if (!existsSync(file)) continue;
    out.push({ id: `${baseId}:${name}`, name, dir, created: Math.floor(statSync(file).mtimeMs / 1000) });
  }
  return out;
}
