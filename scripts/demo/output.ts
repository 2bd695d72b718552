/** What the demo prints: every line redacted, each phase timed. */

/** Secrets that must never reach the terminal: every line printed goes through `redact`. */
const secrets: string[] = [];

export const keepSecret = (secret: string): void => void secrets.push(secret);
export const redact = (text: string): string => secrets.reduce((t, s) => t.split(s).join('***'), text);
export const say = (line: string): void => void process.stdout.write(`${redact(line)}\n`);
export const progress = (line: string): void => say(`▸ ${line}`);
export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Seconds each phase took, by name, in the order they ran. */
export const durations: Record<string, number> = {};

/** Runs one phase of the demo: announced, timed into `durations[name]`. */
export async function step<T>(name: string, label: string, fn: () => Promise<T>): Promise<T> {
  progress(`${label}…`);
  const started = performance.now();
  const result = await fn();
  durations[name] = Number(((performance.now() - started) / 1000).toFixed(2));
  say(`  done in ${durations[name].toFixed(1)} s`);
  return result;
}
