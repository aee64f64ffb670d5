import { formatBytes } from './format-bytes.js';

/**
 * What one value of a recipe's choice input costs (a quantization, a model size): derived by the
 * engine from the recipe's `requires.variants` and the weights that value selects, shown by the
 * CLI's plan and the web UI's install dialog with the same words.
 */
export interface ChoiceNeed {
  /** Memory the app needs with this value (the variant's, else the recipe's). */
  memoryGiB?: number;
  /** Disk the app needs with this value (the variant's, else the recipe's). */
  diskGiB?: number;
  /** Sum of the selected weights' sizes, when every one of them is pinned. */
  downloadBytes?: number;
  /** How many weight files this value selects (a split model has several parts). */
  weights: number;
}

const GiB = 1024 ** 3;

/**
 * "~46.6 GiB download in 2 parts, needs 51.0 GiB of memory"; empty when nothing is known. The
 * download is exact when every selected weight pins its size, else the disk need stands in for it (~).
 */
export function describeChoiceNeed(need: ChoiceNeed): string {
  const said: string[] = [];
  let size: string | undefined;
  if (need.downloadBytes !== undefined) size = formatBytes(need.downloadBytes);
  else if (need.diskGiB !== undefined) size = `~${formatBytes(need.diskGiB * GiB)}`;
  if (size !== undefined && need.weights === 0) said.push(`${size} on disk`);
  else if (size !== undefined) said.push(`${size} download${need.weights > 1 ? ` in ${need.weights} parts` : ''}`);
  if (need.memoryGiB !== undefined) said.push(`needs ${formatBytes(need.memoryGiB * GiB)} of memory`);
  return said.join(', ');
}

/** A choice as a person picks it: "Q5_K_M — ~46.6 GiB download in 2 parts, needs 51.0 GiB of memory". */
export function choiceLabel(choice: string, need: ChoiceNeed | undefined): string {
  const text = need ? describeChoiceNeed(need) : '';
  return text ? `${choice} — ${text}` : choice;
}
