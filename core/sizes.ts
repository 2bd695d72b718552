/**
 * The one way pgferry prints a size (logs, progress, summaries, error messages): binary units, so a
 * small dump reads "812 B" or "3.4 KiB" rather than "0.0 MiB". One decimal, dropped when it is zero
 * ("64 MiB", as limits are written); bytes are whole.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  // 1023.96 KiB would print as "1024.0 KiB": it moves up a unit once rounding reaches 1024.
  while (unit < UNITS.length - 1 && Number(value.toFixed(1)) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  const rounded = Number(value.toFixed(1));
  const text =
    unit === 0 ? String(Math.round(value)) : Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
  return `${text} ${UNITS[unit]}`;
}

/** A rate, as in "3.2 MiB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatSize(bytesPerSecond)}/s`;
}

/** A size for a reader who may want the exact count too: "12.3 MiB (12898234 bytes)". */
export function formatSizeExact(bytes: number): string {
  const short = formatSize(bytes);
  return short === `${bytes} B` ? short : `${short} (${bytes} bytes)`;
}
