import { readdirSync, readFileSync } from 'node:fs';

/**
 * Bytes a tool has read so far (its `read()` calls: the archive file pg_restore works through), with
 * its live child processes (pg_restore's parallel workers). Linux keeps the count in /proc/<pid>/io
 * and adds a reaped child's count to its parent's; sockets read with recv() (libpq) are not in it.
 * Undefined where there is no such count (macOS, Windows) or the process has gone: the progress line
 * then says only how long the step has run, rather than a made-up zero.
 */
export function bytesReadBy(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  const own = readChars(pid);
  if (own === undefined) return undefined;
  return childrenOf(pid).reduce((sum, child) => sum + (bytesReadBy(child) ?? 0), own);
}

function readChars(pid: number): number | undefined {
  try {
    const match = /^rchar:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Child processes, from /proc/<pid>/task/<tid>/children, or by each process's parent where that is missing. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter((s) => /^\d+$/.test(s))
        .map(Number),
    );
  } catch {
    return childrenByParent(pid);
  }
}

function childrenByParent(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.map(Number).filter((candidate) => candidate !== pid && parentOf(candidate) === pid);
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ")".
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    return ppid === undefined ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}
