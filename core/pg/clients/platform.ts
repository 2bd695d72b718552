import { PgferryError } from '../../errors.js';

/** Rust target triples of the theseus-rs/postgresql-binaries release assets pgferry supports. */
const TARGETS: Readonly<Record<string, string>> = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
  'linux-x64-musl': 'x86_64-unknown-linux-musl',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
  'linux-arm64-musl': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64': 'x86_64-pc-windows-msvc',
};

export interface PlatformInfo {
  platform: NodeJS.Platform;
  arch: string;
  /** Linux only: which C library the binaries must be linked against. */
  libc?: 'gnu' | 'musl';
}

let detected: PlatformInfo | undefined;

/**
 * This process's platform; on Linux, musl is told apart by the missing glibc version in the report.
 * Asked once: every tool path asks, and each report costs milliseconds (130 ms in all in a dump).
 */
export function currentPlatform(): PlatformInfo {
  if (detected) return detected;
  const info: PlatformInfo = { platform: process.platform, arch: process.arch };
  if (process.platform === 'linux') {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    info.libc = report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
  }
  return (detected = info);
}

export function rustTarget(p: PlatformInfo = currentPlatform()): string {
  const key = p.platform === 'linux' ? `linux-${p.arch}-${p.libc ?? 'gnu'}` : `${p.platform}-${p.arch}`;
  const target = TARGETS[key];
  if (!target) {
    throw new PgferryError(
      `no PostgreSQL client downloads for ${p.platform}/${p.arch}${p.libc ? ` (${p.libc})` : ''}; supported: linux x64/arm64 (gnu or musl), macOS x64/arm64, Windows x64 — install the client tools yourself and pass their bin directory`,
    );
  }
  return target;
}

export function exeName(tool: string, p: PlatformInfo = currentPlatform()): string {
  return p.platform === 'win32' ? `${tool}.exe` : tool;
}
