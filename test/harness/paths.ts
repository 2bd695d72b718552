import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Ignored, rebuilt on demand: fixture archives and the test bed's state. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache');
/** One state file per test run (several runs may share a machine); its path reaches workers by env. */
export const TESTBED_DIR = path.join(CACHE_DIR, 'testbed');
// Not a PGFERRY_ name: pgferry refuses PGFERRY_ variables it does not know, and the handler tests
// run in this process's environment.
export const TESTBED_STATE_ENV = 'TESTBED_STATE_FILE';
/** The state of servers a test file started for itself (old majors), beside the global ones. */
export const EXTRA_TESTBED_STATE_ENV = 'TESTBED_EXTRA_STATE_FILE';
export const SERVER_MAJORS = [14, 15, 16, 17, 18] as const;
/** End-of-life majors, as dump sources for the upgrade path; started only by the tests that use them. */
export const OLD_SERVER_MAJORS = [10, 11, 12, 13] as const;
export type ServerMajor = (typeof SERVER_MAJORS)[number] | (typeof OLD_SERVER_MAJORS)[number];
/** Debian's client tools of the machine's own major. */
export const SYSTEM_CLIENT_DIR = '/usr/lib/postgresql/15/bin';
