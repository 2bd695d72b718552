import { compareReleaseVersions } from '../core/pg/clients/catalog.js';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PgferryError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { CLIENT_TOOLS, verifyClientTools } from '../core/pg/clients/tools.js';
import { ClientCatalog } from '../core/pg/clients/catalog.js';
import { STAGED_MARKER } from '../core/pg/run.js';
import { formatVersion } from '../core/pg/version.js';
import { KNOWN_MAJORS } from '../core/pg/known-majors.js';

export interface StageClientsOptions {
  majors: readonly number[];
  /** Content root of the Lambda layer (mapped to /opt); clients land in `<outDir>/pgferry/pg/<major>`. */
  outDir: string;
  mirror?: string;
  cacheDir?: string;
  log?: Logger;
}

export interface StagedClient {
  major: number;
  /** The staged tools' own version, `17.5`. */
  version: string;
  binDir: string;
  libDir: string;
  /** File names (SONAMEs) in libDir, sorted. */
  libraries: string[];
}

/** Lambda's Node runtimes run on Amazon Linux 2023. */
export const LAMBDA_GLIBC = '2.34';

/**
 * The C library and its loader: always the host's own, never staged (a copied libc would not match
 * the host's loader). libcrypt is not here: it is libxcrypt on current distributions.
 */
export function isGlibcLibrary(name: string): boolean {
  return (
    /^(libc|libm|libmvec|libpthread|libdl|librt|libresolv|libutil|libanl|libBrokenLocale|libthread_db|libc_malloc_debug|libnss_\w+)\.so\.\d+$/.test(
      name,
    ) || /^ld-linux[\w.-]*\.so\.\d+$/.test(name)
  );
}

const run = promisify(execFile);

/** One toolchain command of the build machine (ldd, objdump), with a clear error when it is missing. */
async function buildTool(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, args, { env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new PgferryError(
        `staging client tools needs ${command} on the build machine (glibc's ldd, binutils' objdump); it is not on PATH`,
      );
    }
    throw new PgferryError(`${command} ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

interface Dependency {
  name: string;
  /** Where the build machine's loader finds it; undefined when ldd says "not found". */
  file?: string;
}

/** Shared libraries `file` loads (ldd lists them transitively), without the loader and the vDSO. */
async function dependencies(file: string, libraryPath: string): Promise<Dependency[]> {
  const env = { PATH: process.env.PATH ?? '', LD_LIBRARY_PATH: libraryPath };
  const { stdout, stderr } = await buildTool('ldd', [file], env);
  // A library found but too old for its user: "version `OPENSSL_3.2.0' not found (required by …)".
  const tooOld = /version `[^']+' not found \(required by [^)]+\)/.exec(`${stdout}\n${stderr}`);
  if (tooOld)
    throw new PgferryError(`${path.basename(file)} cannot load on this build machine: ${tooOld[0]}`);
  const deps: Dependency[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(.*?)\s*(?:\(0x[0-9a-f]+\))?$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    deps.push(m[2] === 'not found' ? { name: m[1] } : { name: m[1], file: m[2] });
  }
  return deps;
}

/**
 * Every library the tools load except glibc's, resolved like the loader would with the client's own
 * lib dir first: SONAME → real file on the build machine.
 */
async function resolveLibraries(tools: string[], clientLibDir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const queue = [...tools];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const dep of await dependencies(file, clientLibDir)) {
      if (isGlibcLibrary(dep.name) || found.has(dep.name)) continue;
      if (!dep.file) {
        throw new PgferryError(
          `${path.basename(file)} needs ${dep.name}, which ldd cannot find on this build machine; install the package that provides it and stage again`,
        );
      }
      const real = await realpath(dep.file);
      // The client's own libpq must win over a system libpq of another major.
      const own = path.join(clientLibDir, dep.name);
      if (existsSync(own) && (await realpath(own)) !== real) {
        throw new PgferryError(
          `${dep.name} resolved to ${dep.file} instead of the client's own ${own}; the staged tools would load the wrong library`,
        );
      }
      found.set(dep.name, real);
      queue.push(real);
    }
  }
  return found;
}

/** The newest `GLIBC_x.y` symbol version an ELF file refers to (undefined: none). */
export async function glibcRequirement(file: string): Promise<string | undefined> {
  const { stdout } = await buildTool('objdump', ['-T', file], { PATH: process.env.PATH ?? '' });
  let max: string | undefined;
  for (const m of stdout.matchAll(/\bGLIBC_(\d+\.\d+(?:\.\d+)?)\b/g)) {
    const v = m[1];
    if (v && (max === undefined || compareReleaseVersions(v, max) > 0)) max = v;
  }
  return max;
}

/**
 * Fails when any file needs a glibc newer than `limit` (it would not load on Lambda); returns the
 * newest version needed across the files.
 */
export async function checkGlibc(
  files: readonly string[],
  limit = LAMBDA_GLIBC,
): Promise<string | undefined> {
  let max: string | undefined;
  for (const file of files) {
    const needs = await glibcRequirement(file);
    if (needs === undefined) continue;
    if (compareReleaseVersions(needs, limit) > 0) {
      throw new PgferryError(
        `${file} needs glibc ${needs} (symbol version GLIBC_${needs}), but the target has glibc ${limit} (Lambda's Amazon Linux 2023 has glibc ${LAMBDA_GLIBC}); stage the clients on a build machine with glibc ${limit} or older`,
      );
    }
    if (max === undefined || compareReleaseVersions(needs, max) > 0) max = needs;
  }
  return max;
}

function checkMajors(majors: readonly number[]): number[] {
  const bad = majors.filter((m) => !Number.isInteger(m) || m < KNOWN_MAJORS.oldestStaged);
  if (majors.length === 0 || bad.length > 0) {
    throw new PgferryError(
      `majors to stage: ${majors.length === 0 ? 'none given' : `${bad.join(', ')} not supported`}; expected one or more majors, ${KNOWN_MAJORS.oldestStaged} or newer`,
    );
  }
  return [...new Set(majors)].sort((a, b) => a - b);
}

/** Directories readable by everyone: Lambda runs the layer's files as an unprivileged user. */
async function mkdirPublic(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
}

/** Stages one major into `<root>/<major>` and returns it as it will be named after the final rename. */
async function stageMajor(
  catalog: ClientCatalog,
  major: number,
  root: string,
  finalRoot: string,
  log: Logger,
): Promise<StagedClient> {
  const tools = await catalog.provide({ major }).catch((error: unknown) => {
    throw new PgferryError(`cannot stage PostgreSQL ${major} client tools: ${(error as Error).message}`, {
      cause: error,
    });
  });
  const version = formatVersion(tools.version);
  const clientLibDir = path.resolve(tools.binDir, '..', 'lib');
  const binDir = path.join(root, String(major), 'bin');
  const libDir = path.join(root, String(major), 'lib');
  await mkdirPublic(path.dirname(binDir));
  await mkdirPublic(binDir);
  await mkdirPublic(libDir);

  const sources = CLIENT_TOOLS.map((t) => path.join(tools.binDir, t));
  const libraries = await resolveLibraries(sources, clientLibDir);
  const staged: string[] = [];
  let bytes = 0;
  const put = async (from: string, to: string, mode: number): Promise<void> => {
    await copyFile(await realpath(from), to);
    await chmod(to, mode);
    bytes += (await stat(to)).size;
    staged.push(to);
  };
  for (const tool of CLIENT_TOOLS) await put(path.join(tools.binDir, tool), path.join(binDir, tool), 0o755);
  for (const [name, file] of libraries) await put(file, path.join(libDir, name), 0o644);

  const glibc = await checkGlibc(staged);
  const names = [...libraries.keys()].sort();
  const marker = path.join(libDir, STAGED_MARKER);
  await writeFile(marker, `${JSON.stringify({ version, libraries: names })}\n`);
  await chmod(marker, 0o644);
  // The staged copy must run on its own, with only its lib dir on the library path.
  await verifyClientTools(binDir, tools.version, tools.source);
  log.info(
    `staged PostgreSQL ${version} client: ${CLIENT_TOOLS.length} tools and ${names.length} libraries, ${(bytes / 1048576).toFixed(1)} MiB, needs glibc ${glibc ?? 'none'} (≤ ${LAMBDA_GLIBC})`,
  );
  return {
    major,
    version,
    binDir: path.join(finalRoot, String(major), 'bin'),
    libDir: path.join(finalRoot, String(major), 'lib'),
    libraries: names,
  };
}

/**
 * Stages pg_dump, pg_restore, psql and pg_dumpall of each major, with every shared library they load
 * except glibc's, into `<outDir>/pgferry/pg/<major>/{bin,lib}` (a Lambda layer's `/opt`, or a
 * container's). Clients come through the engine's own provisioning (mirror or cache), never from the
 * build machine's installed PostgreSQL. Everything is built beside `<outDir>/pgferry` and renamed
 * into place at the end, replacing what was there.
 */
export async function stageClients(o: StageClientsOptions): Promise<StagedClient[]> {
  if (process.platform !== 'linux') {
    throw new PgferryError(
      `staging client tools for Lambda needs a Linux build machine (ldd, objdump, glibc); this one is ${process.platform}`,
    );
  }
  const majors = checkMajors(o.majors);
  const log = o.log ?? silentLogger;
  const outDir = path.resolve(o.outDir);
  const target = path.join(outDir, 'pgferry');
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const work = path.join(outDir, `.pgferry-stage-${suffix}`);
  const old = path.join(outDir, `.pgferry-old-${suffix}`);
  const catalog = new ClientCatalog({ log, mirror: o.mirror, cacheDir: o.cacheDir, installedDirs: () => [] });

  // outDir is the caller's (a CDK asset directory): created if need be, its mode left alone.
  await mkdir(outDir, { recursive: true });
  try {
    await mkdirPublic(work);
    await mkdirPublic(path.join(work, 'pg'));
    const staged: StagedClient[] = [];
    for (const major of majors) {
      staged.push(await stageMajor(catalog, major, path.join(work, 'pg'), path.join(target, 'pg'), log));
    }
    if (existsSync(target)) await rename(target, old);
    await rename(work, target).catch(async (error: unknown) => {
      if (existsSync(old)) await rename(old, target);
      throw error;
    });
    return staged;
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
