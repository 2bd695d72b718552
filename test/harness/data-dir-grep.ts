import { openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Which of `needles` occur anywhere in the bytes of a server's data directory (heap, TOAST, WAL,
 * everything), read file by file in chunks with an overlap so a value split across chunks is found.
 */
export function needlesInDataDir(dir: string, needles: readonly string[]): Set<string> {
  const found = new Set<string>();
  const bufs = needles.map((n) => Buffer.from(n, 'utf8'));
  const overlap = Math.max(...bufs.map((b) => b.length));
  const chunk = Buffer.alloc(4 * 1024 * 1024 + overlap);
  for (const file of filesUnder(dir)) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      continue; // removed meanwhile (a recycled WAL segment, a temp file)
    }
    try {
      let kept = 0;
      for (;;) {
        const n = readSync(fd, chunk, kept, chunk.length - kept, null);
        if (n === 0) break;
        const view = chunk.subarray(0, kept + n);
        bufs.forEach((b, i) => {
          if (view.includes(b)) found.add(needles[i] as string);
        });
        kept = Math.min(overlap, view.length);
        view.copy(chunk, 0, view.length - kept);
      }
    } finally {
      closeSync(fd);
    }
  }
  return found;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    let s;
    try {
      s = statSync(p);
    } catch {
      continue;
    }
    if (s.isDirectory()) out.push(...filesUnder(p));
    else if (s.isFile()) out.push(p);
  }
  return out;
}
