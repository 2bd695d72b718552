/** Units and the bench's log line. */
export const MB = 1024 * 1024;

export const x = (n: number): string => `${n.toFixed(3)}×`;
export const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
export const mb = (n: number): string => `${(n / MB).toFixed(1)} MB`;
export const s = (n: number): string => `${n.toFixed(2)} s`;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
