import { PgferryError } from './errors.js';
import { didYouMean } from './near-miss.js';
import { INPUTS } from './options.js';

/**
 * The CLI's argv: `<command>` and `--name value` / `--name=value` for every input of core/options.ts.
 * A boolean input also takes a bare `--name` (true; the next argument is its value only when it is
 * exactly `true` or `false`) and `--no-name` (false) — except the inputs whose own name starts with
 * `no-` (`--no-owner`), which have no double negative.
 */
export interface ParsedArgs {
  values: Map<string, string>;
  /** Inputs given as flags (the rest come from `PGFERRY_*` variables or defaults). */
  flags: Set<string>;
  json: boolean;
  help: boolean;
  version: boolean;
}

const FLAG_INPUTS = INPUTS.filter((i) => i.name !== 'command');
const BOOLEANS = new Set(FLAG_INPUTS.filter((i) => i.type === 'boolean').map((i) => i.name));
const KNOWN = new Set(FLAG_INPUTS.map((i) => i.name));
const NEGATABLE = [...BOOLEANS].filter((name) => !name.startsWith('no-'));
/** Every spelling a flag may have, for "did you mean". */
const SPELLINGS = [
  '--json',
  '--help',
  '--version',
  ...[...KNOWN].map((n) => `--${n}`),
  ...NEGATABLE.map((n) => `--no-${n}`),
];

/** `--no-cache` → `cache`, for a boolean input that is not itself named `no-…`. */
function negated(name: string): string | undefined {
  const positive = name.slice('no-'.length);
  return name.startsWith('no-') && !KNOWN.has(name) && NEGATABLE.includes(positive) ? positive : undefined;
}

function unknownFlagHint(name: string): string {
  const positive = name.slice('no-'.length);
  if (name.startsWith('no-') && BOOLEANS.has(positive)) return `did you mean --${positive}=false?`;
  if (name.startsWith('no-') && KNOWN.has(positive)) return `--${positive} is not a boolean`;
  return didYouMean(`--${name}`, SPELLINGS, 'see --help');
}

/**
 * Every flag of `argv` by its input's name; `hint` ends an unknown-argument message (where the
 * flags are listed). Every refusal is a usage error: code `input`.
 */
export function parseArgv(argv: readonly string[], hint: string): ParsedArgs {
  const parsed: ParsedArgs = {
    values: new Map(),
    flags: new Set(),
    json: false,
    help: false,
    version: false,
  };
  const usageError = (message: string): PgferryError => new PgferryError(message, { code: 'input' });
  const unknown: string[] = [];
  const set = (name: string, value: string): void => {
    const previous = parsed.values.get(name);
    if (previous !== undefined && BOOLEANS.has(name))
      throw usageError(`--${name}: given more than once; give a boolean once`);
    // Lists may be given by repeating the flag.
    parsed.values.set(name, previous === undefined ? value : `${previous}\n${value}`);
    parsed.flags.add(name);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--json') parsed.json = true;
    else if (arg === '--help' || arg === '-h') parsed.help = true;
    else if (arg === '--version' || arg === '-V') parsed.version = true;
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      const positive = negated(name);
      if (positive !== undefined) {
        if (inline !== undefined)
          throw usageError(`--${name} takes no value; write --${positive}=${inline} instead`);
        set(positive, 'false');
      } else if (!KNOWN.has(name)) {
        unknown.push(`--${name} (${unknownFlagHint(name)})`);
        // Its value, if it has one, is no second unknown argument.
        if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]?.startsWith('-')) i++;
      } else if (inline !== undefined) set(name, inline);
      else if (BOOLEANS.has(name)) {
        const next = argv[i + 1];
        set(name, next === 'true' || next === 'false' ? (argv[++i] ?? 'true') : 'true');
      } else {
        const value = argv[++i];
        if (value === undefined) throw usageError(`--${name} needs a value`);
        set(name, value);
      }
    } else if (!parsed.values.has('command')) parsed.values.set('command', arg);
    else unknown.push(arg);
  }
  if (unknown.length)
    throw usageError(`unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}\n${hint}`);
  return parsed;
}

export function envName(input: string): string {
  return `PGFERRY_${input.toUpperCase().replace(/-/g, '_')}`;
}

/** The CLI's own spelling of an input in messages: the flag, or the variable it came from. */
export function cliLabel(args: ParsedArgs, env: NodeJS.ProcessEnv): (input: string) => string {
  return (input) => {
    if (!KNOWN.has(input)) return input;
    if (!args.flags.has(input) && env[envName(input)] !== undefined) return envName(input);
    return `--${input}`;
  };
}
