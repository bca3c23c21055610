/** A small, strict command-line parser: every option is declared, values are validated with clear messages. */
import { UsageError } from './errors';

export interface OptionSpec { flag?: boolean; repeat?: boolean }

export interface ParsedArgs { positional: string[]; options: Map<string, string[]> }

export function parseArgs(argv: string[], specs: Record<string, OptionSpec>): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option --${name} (see --help)`);
    let value: string;
    if (spec.flag) {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value`);
      value = 'true';
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
      value = argv[++i];
    }
    if (options.has(name) && !spec.repeat) throw new UsageError(`option --${name} given twice`);
    options.set(name, [...(options.get(name) ?? []), value]);
  }
  return { positional, options };
}

export function optString(args: ParsedArgs, name: string): string | undefined {
  return args.options.get(name)?.[0];
}

export function optFlag(args: ParsedArgs, name: string): boolean {
  return args.options.has(name);
}

export function optInt(args: ParsedArgs, name: string, min: number): number | undefined {
  const raw = optString(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < min) throw new UsageError(`Expected an integer >= ${min} for --${name} but received "${raw}"`);
  return value;
}

export function optChoice<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const raw = optString(args, name);
  if (raw === undefined) return fallback;
  if (!choices.includes(raw as T)) throw new UsageError(`Expected one of ${choices.join(' | ')} for --${name} but received "${raw}"`);
  return raw as T;
}

/** "HxW" or "S" (square). */
export function optPair(args: ParsedArgs, name: string, min: number): [number, number] | undefined {
  const raw = optString(args, name);
  if (raw === undefined) return undefined;
  const m = /^(\d+)(?:x(\d+))?$/.exec(raw);
  const pair: [number, number] | undefined = m ? [Number(m[1]), Number(m[2] ?? m[1])] : undefined;
  if (!pair || pair[0] < min || pair[1] < min) throw new UsageError(`Expected HxW (or a single size) of integers >= ${min} for --${name} but received "${raw}"`);
  return pair;
}

/** Bytes with an optional K/M/G suffix (powers of 1024). */
export function optBytes(args: ParsedArgs, name: string, fallback: number): number {
  const raw = optString(args, name);
  if (raw === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)([KMG]i?B?)?$/i.exec(raw);
  if (!m) throw new UsageError(`Expected a size like 512M or 2G for --${name} but received "${raw}"`);
  const unit = (m[2] ?? '').toUpperCase()[0];
  const scale = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * scale);
}
