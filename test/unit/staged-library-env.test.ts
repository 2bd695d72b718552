import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIENT_TOOLS, probeClientVersion } from '../../core/pg/clients/tools.js';
import { runTool, STAGED_MARKER, stagedLibraryEnv } from '../../core/pg/run.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'pgferry-staged-env-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `<name>/bin` holding shell scripts named like the client tools, with or without a staged lib dir. */
function client(name: string, staged: boolean, script: string): { binDir: string; libDir: string } {
  const binDir = path.join(root, name, 'bin');
  const libDir = path.join(root, name, 'lib');
  mkdirSync(binDir, { recursive: true });
  mkdirSync(libDir, { recursive: true });
  if (staged) writeFileSync(path.join(libDir, STAGED_MARKER), '{}\n');
  for (const tool of CLIENT_TOOLS) {
    writeFileSync(path.join(binDir, tool), `#!/bin/sh\n${script.replaceAll('TOOL', tool)}\n`);
    chmodSync(path.join(binDir, tool), 0o755);
  }
  return { binDir, libDir };
}

const PRINT_LIBRARY_PATH = 'echo "${LD_LIBRARY_PATH-unset}"';

describe('stagedLibraryEnv', () => {
  it('points a staged client at its own lib dir', () => {
    const { binDir, libDir } = client('staged', true, PRINT_LIBRARY_PATH);
    expect(stagedLibraryEnv(binDir)).toEqual({ LD_LIBRARY_PATH: libDir });
  });

  it('adds nothing for a client without the marker', () => {
    const { binDir } = client('plain', false, PRINT_LIBRARY_PATH);
    expect(stagedLibraryEnv(binDir)).toEqual({});
  });

  it('gives the library path to tools runTool starts from a staged client, and only to those', async () => {
    const staged = client('run-staged', true, PRINT_LIBRARY_PATH);
    const plain = client('run-plain', false, PRINT_LIBRARY_PATH);
    const out = async (binDir: string): Promise<string> =>
      (await runTool({ file: path.join(binDir, 'pg_dump'), args: [] })).stdout.trim();
    expect(await out(staged.binDir)).toBe(staged.libDir);
    expect(await out(plain.binDir)).toBe('unset');
  });

  it('gives the library path to the --version probe', async () => {
    const { binDir, libDir } = client(
      'probe',
      true,
      `[ "$LD_LIBRARY_PATH" = "${path.join(root, 'probe', 'lib')}" ] || exit 3\necho "TOOL (PostgreSQL) 17.5"`,
    );
    expect(libDir).toBe(path.join(root, 'probe', 'lib'));
    expect(await probeClientVersion(binDir)).toEqual({ major: 17, minor: 5 });
  });
});
