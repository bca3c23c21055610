/**
 * Command-line parsing on Node's util.parseArgs, strict: each command declares its options, an
 * option another command owns is a usage error (exit 2). Values are converted here with the one
 * message form ("Expected X for --name but received "text""); the library validates the rest.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { UsageError } from '../errors';

export interface OptionSpec {
  /** A flag takes no value. */
  flag?: boolean;
  /** May be given more than once (values are collected). */
  repeat?: boolean;
  /** Value name in the help, e.g. "HxW". */
  value?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One usage line per form, without the launcher (`mpirun -n N node dist/stitch.js`). */
  usage: string[];
  summary: string;
  options: Record<string, OptionSpec>;
}

export interface ParsedArgs { positional: string[]; options: Map<string, string[]> }

/** Options every command takes. */
const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { flag: true, help: 'print one JSON report on stdout' },
  debug: { flag: true, help: 'stack traces with errors' },
  help: { flag: true, help: 'this help' },
};

export function parseCommand(spec: CommandSpec, argv: string[]): ParsedArgs {
  const all = { ...spec.options, ...COMMON_OPTIONS };
  const options = Object.fromEntries(Object.entries(all).map(([name, o]) => [name, { type: o.flag ? 'boolean' : 'string', multiple: true } as const]));
  let parsed;
  try {
    parsed = nodeParseArgs({ args: joinNegativeValues(argv, all), options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw usageFromParseError(error as Error & { code?: string }, spec.name);
  }
  const values = new Map<string, string[]>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (values.has(token.name) && !all[token.name].repeat) throw new UsageError(`option --${token.name} given twice`);
    values.set(token.name, [...(values.get(token.name) ?? []), token.value ?? 'true']);
  }
  return { positional: parsed.positionals, options: values };
}

/** `--overlap -3`: util.parseArgs calls a dash-led value ambiguous; it is a (negative) value here. */
function joinNegativeValues(argv: string[], specs: Record<string, OptionSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') && !argv[i].includes('=') ? argv[i].slice(2) : undefined;
    if (name && specs[name] && !specs[name].flag && /^-\d/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function usageFromParseError(error: Error & { code?: string }, command: string): UsageError {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': return new UsageError(`unknown option ${option} for ${command} (see ${command} --help)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new UsageError(/does not take an argument/.test(error.message) ? `option ${option} takes no value` : `option ${option} needs a value`);
    default: return new UsageError(error.message.split('\n')[0]);
  }
}

export function helpText(spec: CommandSpec, launcher: string): string {
  const rows = Object.entries({ ...spec.options, ...COMMON_OPTIONS }).map(([name, o]) => [`--${name}${o.value ? ` ${o.value}` : ''}`, o.help]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `${spec.summary}\n`,
    'usage:',
    ...spec.usage.map((u) => `  ${launcher} ${u}`),
    '',
    'options:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    '',
  ].join('\n');
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
export function optBytes(args: ParsedArgs, name: string): number | undefined {
  const raw = optString(args, name);
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([KMG]i?B?)?$/i.exec(raw);
  if (!m) throw new UsageError(`Expected a size like 512M or 2G for --${name} but received "${raw}"`);
  const unit = (m[2] ?? '').toUpperCase()[0];
  const scale = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * scale);
}

/** --hint KEY=VALUE (repeatable) as an object. */
export function optHints(args: ParsedArgs): Record<string, string> {
  const hints: Record<string, string> = {};
  for (const h of args.options.get('hint') ?? []) {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`Expected KEY=VALUE for --hint but received "${h}"`);
    hints[h.slice(0, eq)] = h.slice(eq + 1);
  }
  return hints;
}

/** --overlap P, or --overlap-y P --overlap-x P. */
export function optOverlap(args: ParsedArgs): [number, number] | undefined {
  const both = optInt(args, 'overlap', 0);
  const y = optInt(args, 'overlap-y', 0) ?? both;
  const x = optInt(args, 'overlap-x', 0) ?? both;
  if (y === undefined && x === undefined) return undefined;
  if (y === undefined || x === undefined) throw new UsageError('give --overlap, or both --overlap-y and --overlap-x');
  return [y, x];
}

/** FILE[:/dataset] */
export function splitTarget(value: string, fallbackDataset: string): { file: string; dataset: string } {
  const m = /^(.*?):(\/.*)$/.exec(value);
  return m ? { file: m[1], dataset: m[2] } : { file: value, dataset: fallbackDataset };
}

/** The only positional argument of a command (`what` names it in the error). */
export function onePositional(args: ParsedArgs, what: string): string {
  if (args.positional.length === 0) throw new UsageError(`missing ${what}`);
  if (args.positional.length > 1) throw new UsageError(`unexpected argument "${args.positional[1]}"`);
  return args.positional[0];
}
