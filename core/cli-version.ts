/** Set by the CLI's bundler (scripts/build-cli.mjs) from package.json's version. */
declare const PGFERRY_VERSION: string | undefined;

/** pgferry's own version, as `pgferry --version` prints it; `0.0.0-unbundled` when run from source. */
export const VERSION: string = typeof PGFERRY_VERSION === 'string' ? PGFERRY_VERSION : '0.0.0-unbundled';
