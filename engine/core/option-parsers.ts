import { InvalidArgumentError } from 'commander';

/**
 * commander argParsers shared by the CLI and the services' own command lines: a value out of range
 * is a usage error (exit 2) that names the option and the range.
 */
export function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, not "${value}"`);
    return n;
  };
}

export function decimal(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, not "${value}"`);
    return n;
  };
}
