import type { BuildOptions } from 'esbuild';

export interface NodeBundleSpec {
  entry: string;
  outfile: string;
  target: string;
}

export const root: string;
export function nodeBundleOptions(spec: NodeBundleSpec): BuildOptions;
export function bundleNode(spec: NodeBundleSpec): Promise<void>;
