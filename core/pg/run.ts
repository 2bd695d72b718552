import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PgferryError, ToolError } from '../errors.js';
import { OWN_PROCESS_GROUPS, signalTool, unwatchGroup, watchGroup } from './child-watchdog.js';

/** Bytes moved so far, for "long work reports progress at least every 10 s". */
export interface Progress {
  /** 0 when `measured` is false. */
  bytes: number;
  elapsedMs: number;
  bytesPerSecond: number;
  /** What `bytes` counts: a dump's output written, an archive read by a restore, a copy's stream. */
  counts: ProgressMeter['counts'];
  /** False where the platform cannot tell how far the tool got: only the elapsed time is known. */
  measured: boolean;
  total?: ProgressTotal;
}

/** What a step's bytes are compared with, for a percentage. */
export interface ProgressTotal {
  bytes: number;
  /** What the total is, as a reader sees it: "the archive", "table data on disk". */
  of: string;
  /** True when the total is a guess (on-disk table size against a dump's output), false when exact. */
  estimate: boolean;
}

/** How a tool's progress is measured; by default, the bytes of its stdout written on. */
export interface ProgressMeter {
  counts: 'written' | 'read' | 'streamed';
  /** Bytes so far, given the tool's pid; undefined when they cannot be known here. */
  measure?: (pid: number | undefined) => number | undefined;
  total?: ProgressTotal;
}

export interface RunToolOptions {
  /** Absolute path of the tool. */
  file: string;
  args: readonly string[];
  /** Extra environment (the connection's PG* variables); merged over a minimal base, nothing else. */
  env?: Readonly<Record<string, string>>;
  /** Fed to the tool's stdin; otherwise stdin is closed. */
  stdin?: Readable;
  /** Where stdout goes: a stream, 'capture' (returned as text) or 'ignore'. */
  stdout?: Writable | 'capture' | 'ignore';
  signal?: AbortSignal;
  /** Called every `intervalMs` while the tool runs. */
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** What the progress counts and how (a file pg_dump writes itself, an archive pg_restore reads). */
  meter?: ProgressMeter;
  /** Strings to blank out of any error text, should a tool ever echo them. */
  secrets?: readonly string[];
}

export interface ToolResult {
  stdout: string;
  stderrTail: string;
  bytesOut: number;
  durationMs: number;
}

const STDERR_TAIL_BYTES = 8192;
const KILL_GRACE_MS = 5000;

/** Only what a tool needs from our environment: no cloud credentials, tokens or foreign PG* values. */
const BASE_ENV_KEYS = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SYSTEMROOT',
  'WINDIR',
];

export function toolEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of BASE_ENV_KEYS) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Marks `<client>/lib` of a client staged for a Lambda layer or an image (infra/stage-clients.ts). */
export const STAGED_MARKER = '.pgferry-staged';

const stagedLibDirs = new Map<string, string | undefined>();

/**
 * `LD_LIBRARY_PATH` for tools of a pgferry-staged client: their RUNPATH does not reach libpq's own
 * dependencies (libssl, libgssapi_krb5), which must come from the staged lib dir, not the host.
 */
export function stagedLibraryEnv(binDir: string): Record<string, string> {
  if (!stagedLibDirs.has(binDir)) {
    const libDir = path.resolve(binDir, '..', 'lib');
    stagedLibDirs.set(binDir, existsSync(path.join(libDir, STAGED_MARKER)) ? libDir : undefined);
  }
  const libDir = stagedLibDirs.get(binDir);
  return libDir ? { LD_LIBRARY_PATH: libDir } : {};
}

export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/**
 * Runs one tool without a shell. Resolves when it exited 0 **and** its stdout was fully consumed;
 * rejects with ToolError (exit code or signal, and the tail of stderr) otherwise, or with a
 * cancellation error when `signal` fires (the tool is terminated, then killed).
 */
export async function runTool(o: RunToolOptions): Promise<ToolResult> {
  const name = path.basename(o.file);
  if (o.signal?.aborted) throw cancelled(name, o.signal);
  const started = Date.now();
  const child = spawnTool(o);
  const stderr = keepStderrTail(child);
  const output: ToolOutput = { bytes: 0, text: '' };
  const work: Promise<unknown>[] = [];
  const reading = readStdout(child, o.stdout, output);
  if (reading) work.push(reading);
  if (o.stdin && child.stdin) work.push(feedStdin(child, o.stdin, child.stdin));
  const stopAbortWatch = terminateOnAbort(child, o);
  const stopProgress = reportProgress(o, started, output, child.pid);
  const exit = new Promise<ToolExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });

  try {
    const result = await waitForTool(name, child, exit, work, o.signal);
    if (result.code !== 0) {
      throw new ToolError(name, result.code, result.signal, redact(stderr.tail.trim(), o.secrets));
    }
    return {
      stdout: output.text,
      stderrTail: redact(stderr.tail, o.secrets),
      bytesOut: output.bytes,
      durationMs: Date.now() - started,
    };
  } finally {
    stopProgress();
    stopAbortWatch();
  }
}

interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What came out of the tool's stdout so far: its size, and its text when captured. */
interface ToolOutput {
  bytes: number;
  text: string;
}

function spawnTool(o: RunToolOptions): ChildProcess {
  const child = spawn(o.file, [...o.args], {
    env: toolEnv({ ...stagedLibraryEnv(path.dirname(o.file)), ...o.env }),
    shell: false,
    stdio: [o.stdin ? 'pipe' : 'ignore', o.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
    windowsHide: true,
    // A group of its own, which the watchdog ends should pgferry die without a word.
    detached: OWN_PROCESS_GROUPS,
  });
  watchGroup(child.pid);
  child.once('close', () => unwatchGroup(child.pid));
  return child;
}

function keepStderrTail(child: ChildProcess): { tail: string } {
  const stderr = { tail: '' };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr.tail = (stderr.tail + chunk).slice(-STDERR_TAIL_BYTES);
  });
  return stderr;
}

/** Captures stdout as text or pipes it on, counting its bytes; undefined when it is ignored. */
function readStdout(
  child: ChildProcess,
  destination: RunToolOptions['stdout'],
  output: ToolOutput,
): Promise<unknown> | undefined {
  const stdout = child.stdout;
  if (!stdout || destination === 'ignore') return undefined;
  if (destination === 'capture' || destination === undefined) {
    stdout.setEncoding('utf8');
    return (async () => {
      for await (const chunk of stdout as AsyncIterable<string>) {
        output.text += chunk;
        output.bytes += Buffer.byteLength(chunk);
      }
    })();
  }
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      output.bytes += chunk.length;
      done(null, chunk);
    },
  });
  return pipeline(stdout, meter, destination);
}

/** Pipes `source` into the tool's stdin; settles when the source ended or the tool exited. */
function feedStdin(child: ChildProcess, source: Readable, sink: Writable): Promise<void> {
  // EPIPE when the tool stops reading is told by its exit code, not as a second error.
  sink.on('error', () => {});
  return new Promise<void>((resolve, reject) => {
    source.once('error', (e) => {
      signalTool(child, 'SIGTERM');
      reject(e);
    });
    source.once('end', resolve);
    child.once('close', (code) => {
      source.unpipe(sink);
      // A tool that succeeded without reading everything (pg_restore stops at the archive's last
      // entry) lets the producer finish, so that its own exit code still counts; a failed one
      // stops it.
      if (code === 0) source.resume();
      else source.destroy();
      resolve();
    });
    source.pipe(sink);
  });
}

/** Terminates the tool, then kills it after a grace period, when `o.signal` fires; returns the undo. */
function terminateOnAbort(child: ChildProcess, o: RunToolOptions): () => void {
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    signalTool(child, 'SIGTERM');
    // Output still queued for a consumer that has gone (a failed upload) would keep us waiting.
    child.stdout?.destroy();
    if (typeof o.stdout === 'object') o.stdout.destroy();
    killTimer = setTimeout(() => signalTool(child, 'SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    if (killTimer) clearTimeout(killTimer);
    o.signal?.removeEventListener('abort', onAbort);
  };
}

/** Calls `o.onProgress` every interval while the tool runs; returns the stop. */
function reportProgress(
  o: RunToolOptions,
  started: number,
  output: ToolOutput,
  pid: number | undefined,
): () => void {
  const meter = o.meter ?? { counts: 'written' };
  const ticker =
    o.onProgress &&
    setInterval(() => {
      const elapsedMs = Date.now() - started;
      const measured = meter.measure ? meter.measure(pid) : output.bytes;
      const bytes = measured ?? 0;
      o.onProgress?.({
        bytes,
        elapsedMs,
        bytesPerSecond: elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0,
        counts: meter.counts,
        measured: measured !== undefined,
        ...(meter.total ? { total: meter.total } : {}),
      });
    }, o.progressIntervalMs ?? 10_000);
  ticker?.unref();
  return () => {
    if (ticker) clearInterval(ticker);
  };
}

/**
 * Waits for the tool's exit and its streams. A cancellation, or a broken output side, is the
 * story rather than the exit code it caused; `exit` is what the tool itself said.
 */
async function waitForTool(
  name: string,
  child: ChildProcess,
  exit: Promise<ToolExit>,
  work: readonly Promise<unknown>[],
  signal: AbortSignal | undefined,
): Promise<ToolExit> {
  let streamError: unknown;
  const streams = Promise.all(work).catch((e: unknown) => {
    streamError = e;
    // The output side broke (disk full, upload failed): stop the tool rather than let it hang.
    signalTool(child, 'SIGTERM');
  });
  const result = await exit.catch((error: unknown) => {
    throw new PgferryError(`${name} could not be started: ${(error as Error).message}`);
  });
  await streams;
  if (signal?.aborted) throw cancelled(name, signal);
  // When the output side broke we stopped the tool ourselves: that, not its exit code, is the story.
  if (streamError) {
    throw new KnockOnError(`${name}'s output could not be written: ${(streamError as Error).message}`, {
      cause: streamError,
    });
  }
  return result;
}

function cancelled(name: string, signal: AbortSignal): PgferryError {
  const reason =
    signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'cancelled');
  return new KnockOnError(`${name} was cancelled: ${reason}`, { cause: signal.reason });
}

/**
 * A failure caused by another one: a tool cancelled, or its output cut, because its partner in a
 * pipeline failed. When several tools fail together, the one that is not knock-on is reported. Its
 * code is its cause's, when that is one of pgferry's (a digest that did not match is `integrity`
 * however many tools it stopped), else `knock-on`.
 */
export class KnockOnError extends PgferryError {
  override readonly name: string = 'KnockOnError';
  constructor(message: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    super(message, { ...options, code: cause instanceof PgferryError ? cause.code : 'knock-on' });
  }
}

/**
 * A controller for the parts of one pipeline, aborted by the caller's signal too: what settlePipeline
 * stops when one part fails, without stopping anything outside the pipeline.
 */
export function pipelineAbort(parent?: AbortSignal): { controller: AbortController; signal: AbortSignal } {
  const controller = new AbortController();
  return { controller, signal: parent ? AbortSignal.any([parent, controller.signal]) : controller.signal };
}

/**
 * Runs the parts of a pipeline together: the first failure stops the others (through `controller`),
 * and the error reported is the cause, not one of its consequences.
 */
export async function settlePipeline<T extends readonly Promise<unknown>[]>(
  controller: AbortController,
  parts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(
    parts.map((p) =>
      p.catch((error: unknown) => {
        if (!controller.signal.aborted) controller.abort(error);
        throw error;
      }),
    ),
  );
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length) throw errors.find((e) => !(e instanceof KnockOnError)) ?? errors[0];
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
