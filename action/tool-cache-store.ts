import * as tc from '@actions/tool-cache';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClientStore } from '../core/pg/clients/store.js';

const TOOL = 'pgferry-postgresql';

/**
 * The runner's tool cache as pgferry's client store: the second run on a runner (or a self-hosted
 * runner's next job) finds the verified client without downloading it. The target triple serves as
 * the tool cache's "arch".
 */
export class ToolCacheStore implements ClientStore {
  async versions(target: string): Promise<string[]> {
    return tc.findAllVersions(TOOL, target);
  }

  binDir(version: string, target: string): string {
    return path.join(tc.find(TOOL, version, target), 'bin');
  }

  async workDir(): Promise<string> {
    return mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'pgferry-client-'));
  }

  async commit(extracted: string, version: string, target: string): Promise<string> {
    const dir = await tc.cacheDir(extracted, TOOL, version, target);
    return path.join(dir, 'bin');
  }
}
