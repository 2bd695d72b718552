import {
  archiveVersionWrittenBy,
  chooseInstallClient,
  chooseCopyClients,
  chooseDumpClient,
  chooseRestoreClient,
  type ClientAvailability,
  type RestoreInputs,
} from '../../core/pg/policy.js';
import type { ArchiveFacts } from '../../core/pg/archive.js';
import type { PgVersion, VersionRequest } from '../../core/pg/version.js';
import { InputError, PgferryError } from '../../core/errors.js';

/** A catalog that can provide exactly these majors, recording what it was asked. */
class FakeCatalog implements ClientAvailability {
  readonly asked: number[] = [];
  private readonly majors: number[];
  constructor(...majors: number[]) {
    this.majors = [...majors].sort((a, b) => a - b);
  }
  lowestAvailableFrom(from: number): Promise<number | undefined> {
    this.asked.push(from);
    return Promise.resolve(this.majors.find((m) => m >= from));
  }
  highestAvailable(): Promise<number | undefined> {
    return Promise.resolve(this.majors.at(-1));
  }
}

const AUTO: VersionRequest = { kind: 'auto' };
const ALL = (): FakeCatalog => new FakeCatalog(12, 13, 14, 15, 16, 17, 18);

function customArchive(archiveVersion: string, server: PgVersion, dump?: PgVersion): ArchiveFacts {
  return { format: 'custom', archiveVersion, compression: 'zstd', serverVersion: server, dumpVersion: dump };
}

function restoreInputs(
  archive: ArchiveFacts,
  target: PgVersion,
  more: Partial<Omit<RestoreInputs, 'archive' | 'target'>> = {},
): RestoreInputs {
  return { archive, target, request: AUTO, allowDowngrade: false, ...more };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection, the promise resolved');
}

describe('archiveVersionWrittenBy', () => {
  it('knows what each pg_dump major writes', () => {
    expect(archiveVersionWrittenBy(12)).toBe('1.14');
    expect(archiveVersionWrittenBy(15)).toBe('1.14');
    expect(archiveVersionWrittenBy(16)).toBe('1.15');
    expect(archiveVersionWrittenBy(17)).toBe('1.16');
    expect(archiveVersionWrittenBy(18)).toBe('1.16');
  });
});

describe('chooseDumpClient', () => {
  it('uses the source server major when it can be had', async () => {
    const catalog = ALL();
    const choice = await chooseDumpClient({ major: 15, minor: 13 }, AUTO, catalog);
    expect(choice.version).toEqual({ major: 15 });
    expect(choice.warnings).toEqual([]);
    expect(choice.reason).toBe('the source server runs PostgreSQL 15.13');
    expect(catalog.asked).toEqual([15]);
  });

  it('falls back to the lowest newer major available, and warns', async () => {
    const choice = await chooseDumpClient({ major: 16, minor: 4 }, AUTO, new FakeCatalog(14, 18, 17));
    expect(choice.version).toEqual({ major: 17 });
    expect(choice.warnings).toEqual([
      'no PostgreSQL 16 client could be had; using 17, the lowest newer major available, for dumping a PostgreSQL 16 server',
    ]);
    expect(choice.reason).toBe('the source server runs PostgreSQL 16.4 and no 16 client could be had');
  });

  it('never picks an older major than the server, even when only older ones exist', async () => {
    const error = await rejection(chooseDumpClient({ major: 17 }, AUTO, new FakeCatalog(12, 15, 16)));
    expect(error).toBeInstanceOf(PgferryError);
    expect(error).not.toBeInstanceOf(InputError);
    expect(error.message).toMatch(/no PostgreSQL client of major 17 or newer can be had/);
  });

  it('fails when nothing is available', async () => {
    const error = await rejection(chooseDumpClient({ major: 16 }, AUTO, new FakeCatalog()));
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toMatch(
      /^no PostgreSQL client of major 16 or newer can be had for dumping a PostgreSQL 16 server/,
    );
  });

  it('refuses a pinned major older than the server, naming postgres-version', async () => {
    const error = await rejection(
      chooseDumpClient({ major: 17, minor: 2 }, { kind: 'major', major: 16 }, ALL()),
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('postgres-version');
    expect(error.message).toMatch(/^postgres-version: pg_dump 16 cannot dump a PostgreSQL 17\.2 server/);
    expect(error.message).toMatch(/expected 17 or newer/);
  });

  it('allows a pinned newer client, with a warning, without asking the catalog', async () => {
    const catalog = new FakeCatalog();
    const choice = await chooseDumpClient({ major: 15 }, { kind: 'exact', major: 17, minor: 5 }, catalog);
    expect(choice.version).toEqual({ major: 17, minor: 5 });
    expect(choice.reason).toBe('postgres-version pins 17.5');
    expect(choice.warnings).toHaveLength(1);
    expect(choice.warnings[0]).toMatch(/^pg_dump 17\.5 is newer than the 15 source server/);
    expect(catalog.asked).toEqual([]);
  });

  it('takes a pinned major equal to the server without a warning', async () => {
    const choice = await chooseDumpClient({ major: 16, minor: 9 }, { kind: 'major', major: 16 }, ALL());
    expect(choice.version).toEqual({ major: 16 });
    expect(choice.warnings).toEqual([]);
  });
});

describe('chooseRestoreClient', () => {
  it('restores a 1.14 archive into 15 with pg_restore 15', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(customArchive('1.14', { major: 15, minor: 8 }), { major: 15, minor: 10 }),
      ALL(),
    );
    expect(choice).toEqual({
      version: { major: 15 },
      reason: 'the target server runs PostgreSQL 15.10',
      warnings: [],
      path: 'pg_restore',
    });
  });

  it('restores an older dump into a newer server with the target major', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(customArchive('1.14', { major: 13 }), { major: 18, minor: 1 }),
      ALL(),
    );
    expect(choice.version).toEqual({ major: 18 });
    expect(choice.path).toBe('pg_restore');
    expect(choice.warnings).toEqual([]);
  });

  it('reads a 1.16 archive of a 16 server (dumped by pg_dump 17) with 17, through the script path', async () => {
    const catalog = ALL();
    const choice = await chooseRestoreClient(
      restoreInputs(customArchive('1.16', { major: 16, minor: 4 }, { major: 17, minor: 5 }), {
        major: 16,
        minor: 4,
      }),
      catalog,
    );
    expect(choice.version).toEqual({ major: 17 });
    expect(choice.path).toBe('script');
    expect(choice.reason).toBe(
      'the archive (format 1.16, written by pg_dump 17.5) needs pg_restore 17 or newer',
    );
    expect(choice.warnings).toHaveLength(1);
    expect(choice.warnings[0]).toMatch(/^pg_restore 17 sets transaction_timeout, which PostgreSQL 16/);
    expect(choice.warnings[0]).toMatch(/no parallel restore/);
    expect(catalog.asked).toEqual([17]);
  });

  it('refuses a dump of a newer source, naming allow-downgrade and both versions', async () => {
    const error = await rejection(
      chooseRestoreClient(
        restoreInputs(customArchive('1.16', { major: 18, minor: 1 }), { major: 15, minor: 13 }),
        ALL(),
      ),
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('allow-downgrade');
    expect(error.message).toMatch(/^allow-downgrade: /);
    expect(error.message).toContain('PostgreSQL 18.1');
    expect(error.message).toContain('PostgreSQL 15.13');
    expect(error.message).toMatch(/set allow-downgrade to true/);
  });

  it('refuses a downgrade even when the target major could read the archive', async () => {
    const error = await rejection(
      chooseRestoreClient(restoreInputs(customArchive('1.14', { major: 14 }), { major: 13 }), ALL()),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/PostgreSQL 14 server and the target runs PostgreSQL 13/);
  });

  it('with allow-downgrade, goes through the script path with the lowest client that reads the archive', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(
        customArchive('1.14', { major: 16, minor: 1 }),
        { major: 15, minor: 13 },
        {
          allowDowngrade: true,
        },
      ),
      ALL(),
    );
    expect(choice.version).toEqual({ major: 15 });
    expect(choice.path).toBe('script');
    expect(choice.warnings).toHaveLength(1);
    expect(choice.warnings[0]).toMatch(
      /PostgreSQL 16\.1 dump into PostgreSQL 15\.13 \(a downgrade, allowed\)/,
    );
  });

  it('with allow-downgrade, an archive of an 18 server into 15 is read by pg_restore 18, which leaves statistics out', async () => {
    const catalog = ALL();
    const choice = await chooseRestoreClient(
      restoreInputs(
        customArchive('1.16', { major: 18, minor: 1 }),
        { major: 15, minor: 13 },
        {
          allowDowngrade: true,
        },
      ),
      catalog,
    );
    expect(choice.version).toEqual({ major: 18 });
    expect(choice.reason).toBe(
      'the archive (format 1.16) may hold planner statistics, which PostgreSQL 15.13 cannot take: pg_restore 18 leaves them out',
    );
    expect(catalog.asked).toEqual([18]);
    expect(choice.path).toBe('script');
    expect(choice.warnings).toHaveLength(1);
    expect(choice.warnings[0]).toMatch(
      /PostgreSQL 18\.1 dump into PostgreSQL 15\.13 \(a downgrade, allowed\)/,
    );
  });

  it('with allow-downgrade and a readable archive, still takes the script path with the target major', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(customArchive('1.14', { major: 15 }), { major: 14 }, { allowDowngrade: true }),
      ALL(),
    );
    expect(choice.version).toEqual({ major: 14 });
    expect(choice.path).toBe('script');
  });

  it('restores a plain dump through psql of the target major', async () => {
    const plain: ArchiveFacts = { format: 'plain', compression: 'gzip', serverVersion: { major: 16 } };
    const choice = await chooseRestoreClient(restoreInputs(plain, { major: 16, minor: 2 }), ALL());
    expect(choice.version).toEqual({ major: 16 });
    expect(choice.path).toBe('psql');
    expect(choice.warnings).toEqual([]);
  });

  it('restores a plain dump with an unknown source through psql, a newer one when the target major is missing', async () => {
    const plain: ArchiveFacts = { format: 'plain', compression: 'none' };
    const choice = await chooseRestoreClient(restoreInputs(plain, { major: 14 }), new FakeCatalog(16, 18));
    expect(choice.version).toEqual({ major: 16 });
    expect(choice.path).toBe('psql');
    expect(choice.warnings).toEqual([
      'no PostgreSQL 14 client could be had; using 16, the lowest newer major available, for restoring into a PostgreSQL 14 server',
    ]);
  });

  it('refuses a pinned client that cannot read the archive, naming postgres-version', async () => {
    const error = await rejection(
      chooseRestoreClient(
        restoreInputs(
          customArchive('1.16', { major: 17 }),
          { major: 17 },
          {
            request: { kind: 'major', major: 16 },
          },
        ),
        ALL(),
      ),
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('postgres-version');
    expect(error.message).toMatch(/^postgres-version: pg_restore 16 cannot read archive format 1\.16/);
    expect(error.message).toMatch(/expected 17 or newer/);
  });

  it('pg_dump 18 of a 17 server restored into 17: pg_restore 18 on the direct path (statistics left out)', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(customArchive('1.16', { major: 17, minor: 6 }, { major: 18, minor: 2 }), { major: 17 }),
      ALL(),
    );
    expect(choice).toEqual({
      version: { major: 18 },
      reason:
        'the archive (format 1.16, written by pg_dump 18.2) may hold planner statistics, which PostgreSQL 17 cannot take: pg_restore 18 leaves them out',
      warnings: [],
      path: 'pg_restore',
    });
  });

  it('an archive of pg_dump 18 with no 18+ client to be had falls back to the reader of the target major', async () => {
    const catalog = new FakeCatalog(15, 16, 17);
    const choice = await chooseRestoreClient(
      restoreInputs(
        customArchive('1.16', { major: 18 }, { major: 18 }),
        { major: 17 },
        { allowDowngrade: true },
      ),
      catalog,
    );
    expect(choice.version).toEqual({ major: 17 });
    expect(choice.reason).toBe('the target server runs PostgreSQL 17');
    expect(choice.path).toBe('script');
    expect(catalog.asked).toEqual([18, 17]);
  });

  it('an archive that cannot hold statistics (pg_dump 17) or a pinned reader never asks for 18', async () => {
    const catalog = ALL();
    const by17 = await chooseRestoreClient(
      restoreInputs(customArchive('1.16', { major: 17 }, { major: 17 }), { major: 17 }),
      catalog,
    );
    expect(by17.version).toEqual({ major: 17 });
    const pinned = await chooseRestoreClient(
      restoreInputs(
        customArchive('1.16', { major: 18 }, { major: 18 }),
        { major: 17 },
        { allowDowngrade: true, request: { kind: 'major', major: 17 } },
      ),
      catalog,
    );
    expect(pinned.version).toEqual({ major: 17 });
    expect(catalog.asked).toEqual([17]);
  });

  it('takes a pinned client that reads the archive, without asking the catalog', async () => {
    const catalog = new FakeCatalog();
    const choice = await chooseRestoreClient(
      restoreInputs(
        customArchive('1.15', { major: 16 }),
        { major: 16 },
        {
          request: { kind: 'exact', major: 18, minor: 1 },
        },
      ),
      catalog,
    );
    expect(choice.version).toEqual({ major: 18, minor: 1 });
    expect(choice.reason).toBe('postgres-version pins 18.1');
    // A pinned pg_restore >= 17 into a 16 server still needs the filtered script.
    expect(choice.path).toBe('script');
    expect(catalog.asked).toEqual([]);
  });

  it('fails when no client that reads the archive can be had', async () => {
    const error = await rejection(
      chooseRestoreClient(
        restoreInputs(customArchive('1.16', { major: 17 }), { major: 17 }),
        new FakeCatalog(15, 16),
      ),
    );
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toMatch(/no PostgreSQL client of major 17 or newer/);
  });
});

describe('chooseCopyClients', () => {
  it('copies 15 → 18: dump with 15, restore with 18 through pg_restore', async () => {
    const { dump, restore } = await chooseCopyClients(
      { major: 15, minor: 6 },
      { major: 18, minor: 1 },
      AUTO,
      false,
      new FakeCatalog(15, 18),
    );
    expect(dump.version).toEqual({ major: 15 });
    expect(dump.warnings).toEqual([]);
    expect(restore.version).toEqual({ major: 18 });
    expect(restore.path).toBe('pg_restore');
    expect(restore.warnings).toEqual([]);
  });

  it('refuses 18 → 15 without allow-downgrade', async () => {
    const error = await rejection(
      chooseCopyClients({ major: 18, minor: 1 }, { major: 15, minor: 13 }, AUTO, false, ALL()),
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('allow-downgrade');
    expect(error.message).toContain('18.1');
    expect(error.message).toContain('15.13');
  });

  it('allows 18 → 15 with allow-downgrade: dump with 18, restore with 18 (no statistics) through the script path', async () => {
    const { dump, restore } = await chooseCopyClients(
      { major: 18, minor: 1 },
      { major: 15, minor: 13 },
      AUTO,
      true,
      ALL(),
    );
    expect(dump.version).toEqual({ major: 18 });
    expect(restore.version).toEqual({ major: 18 });
    expect(restore.path).toBe('script');
    expect(restore.warnings.join('\n')).toMatch(/a downgrade, allowed/);
  });

  it('when the source major is missing, dumps with a newer one and restores into the source-major target by script', async () => {
    const { dump, restore } = await chooseCopyClients(
      { major: 16 },
      { major: 16 },
      AUTO,
      false,
      new FakeCatalog(17, 18),
    );
    expect(dump.version).toEqual({ major: 17 });
    expect(restore.version).toEqual({ major: 17 });
    expect(restore.path).toBe('script');
  });

  it('applies a pinned version to the dump side only', async () => {
    const { dump, restore } = await chooseCopyClients(
      { major: 14 },
      { major: 16 },
      { kind: 'major', major: 15 },
      false,
      ALL(),
    );
    expect(dump.version).toEqual({ major: 15 });
    expect(dump.warnings).toHaveLength(1);
    expect(restore.version).toEqual({ major: 16 });
    expect(restore.path).toBe('pg_restore');
  });
});

describe('install', () => {
  it('matches a given server like a dump does', async () => {
    const choice = await chooseInstallClient({ major: 16, minor: 4 }, AUTO, new FakeCatalog(15, 17));
    expect(choice.version).toEqual({ major: 17 });
    expect(choice.warnings).toEqual([
      'no PostgreSQL 16 client could be had; using 17, the lowest newer major available, for dumping a PostgreSQL 16 server',
    ]);
  });
  it('takes a pinned version as is', async () => {
    expect(
      (await chooseInstallClient(undefined, { kind: 'exact', major: 17, minor: 5 }, ALL())).version,
    ).toEqual({
      major: 17,
      minor: 5,
    });
  });
  it('takes the newest major when given neither server nor version', async () => {
    expect((await chooseInstallClient(undefined, AUTO, new FakeCatalog(15, 17))).version).toEqual({
      major: 17,
    });
    await expect(chooseInstallClient(undefined, AUTO, new FakeCatalog())).rejects.toThrow(
      /no PostgreSQL client can be had/,
    );
  });
});

/**
 * Majors pgferry's tables do not hold follow the rules: a 19 or 20 server gets its own client, an
 * archive written by pg_dump 19 (synthetic headers: format 1.17, or 1.16 if 19 kept it) is read by
 * pg_restore 19 or newer, and nothing says "unsupported".
 */
describe('no ceiling: PostgreSQL 19 and 20', () => {
  const NEWER = (): FakeCatalog => new FakeCatalog(15, 17, 18, 19, 20);
  const V19: PgVersion = { major: 19, minor: 0 };
  const from19 = (archiveVersion: string): ArchiveFacts => customArchive(archiveVersion, V19, V19);
  const said = (...texts: string[]): string => texts.join('\n');
  const NO_CEILING = /unsupported|not supported|supports|newer than any/i;

  it.each([
    [19, 1],
    [20, 3],
  ])('dumps a %i server with a %i client', async (major, minor) => {
    const catalog = NEWER();
    const choice = await chooseDumpClient({ major, minor }, AUTO, catalog);
    expect(choice.version).toEqual({ major });
    expect(choice.reason).toBe(`the source server runs PostgreSQL ${major}.${minor}`);
    expect(choice.warnings).toEqual([]);
    expect(catalog.asked).toEqual([major]);
  });

  it('takes the lowest newer major for a 19 server when no 19 client can be had, and says so', async () => {
    const choice = await chooseDumpClient(V19, AUTO, new FakeCatalog(17, 18, 20));
    expect(choice.version).toEqual({ major: 20 });
    expect(choice.warnings).toEqual([
      'no PostgreSQL 19 client could be had; using 20, the lowest newer major available, for dumping a PostgreSQL 19 server',
    ]);
  });

  it('says a 19 client cannot be had, not that 19 is unsupported, when only older ones exist', async () => {
    const error = await rejection(chooseDumpClient(V19, AUTO, ALL()));
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toBe(
      'no PostgreSQL client of major 19 or newer can be had for dumping a PostgreSQL 19 server: none is installed, cached or published for this platform',
    );
    expect(error.message).not.toMatch(NO_CEILING);
  });

  it('takes a pinned 19 for a 19 server and refuses a pinned 18, naming postgres-version', async () => {
    const pinned = await chooseDumpClient(V19, { kind: 'exact', major: 19, minor: 2 }, ALL());
    expect(pinned).toEqual({
      version: { major: 19, minor: 2 },
      reason: 'postgres-version pins 19.2',
      warnings: [],
    });
    const error = await rejection(chooseDumpClient(V19, { kind: 'major', major: 18 }, NEWER()));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'postgres-version: pg_dump 18 cannot dump a PostgreSQL 19.0 server; expected 19 or newer (or auto)',
    );
  });

  it.each([
    ['1.17', 19],
    ['1.16', 19],
    ['1.17', 20],
  ])('restores a 19 archive of format %s into a %i server with that major', async (format, target) => {
    const catalog = NEWER();
    const choice = await chooseRestoreClient(restoreInputs(from19(format), { major: target }), catalog);
    expect(choice).toEqual({
      version: { major: target },
      reason: `the target server runs PostgreSQL ${target}`,
      warnings: [],
      path: 'pg_restore',
    });
    expect(catalog.asked).toEqual([target]);
  });

  it('reads an unknown format 1.17 with the pg_restore of the major that wrote it, into an older target', async () => {
    const catalog = NEWER();
    const choice = await chooseRestoreClient(
      restoreInputs(from19('1.17'), { major: 18, minor: 4 }, { allowDowngrade: true }),
      catalog,
    );
    expect(choice.version).toEqual({ major: 19 });
    expect(choice.path).toBe('script');
    expect(choice.reason).toBe(
      'the archive (format 1.17, written by pg_dump 19.0) needs pg_restore 19 or newer',
    );
    expect(catalog.asked).toEqual([19]);
    expect(said(choice.reason, ...choice.warnings)).not.toMatch(NO_CEILING);
  });

  it('reads a 19 archive that kept format 1.16 with the older target major (the table knows 1.16)', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(from19('1.16'), { major: 18 }, { allowDowngrade: true }),
      NEWER(),
    );
    expect(choice.version).toEqual({ major: 18 });
    expect(choice.path).toBe('script');
  });

  it('takes a newer major when the writer’s own cannot be had', async () => {
    const choice = await chooseRestoreClient(
      restoreInputs(from19('1.17'), { major: 19 }),
      new FakeCatalog(18, 20),
    );
    expect(choice.version).toEqual({ major: 20 });
    expect(choice.path).toBe('pg_restore');
    expect(choice.warnings).toEqual([
      'no PostgreSQL 19 client could be had; using 20, the lowest newer major available, for restoring into a PostgreSQL 19 server',
    ]);
  });

  it('reads format 1.17 without a pg_dump version with the first major after the known ones', async () => {
    const archive: ArchiveFacts = { format: 'custom', archiveVersion: '1.17', compression: 'none' };
    const catalog = NEWER();
    const choice = await chooseRestoreClient(restoreInputs(archive, { major: 18 }), catalog);
    expect(choice.version).toEqual({ major: 19 });
    expect(choice.reason).toBe('the archive (format 1.17) needs pg_restore 19 or newer');
    expect(catalog.asked).toEqual([19]);
  });

  it('says no reader can be had, not that the format is unsupported, when only older majors exist', async () => {
    const error = await rejection(chooseRestoreClient(restoreInputs(from19('1.17'), { major: 19 }), ALL()));
    expect(error.message).toBe(
      'no PostgreSQL client of major 19 or newer can be had for restoring into a PostgreSQL 19 server: none is installed, cached or published for this platform',
    );
    expect(error.message).not.toMatch(NO_CEILING);
  });

  it('refuses a pinned 18 for a 1.17 archive of 19, naming postgres-version and what reads it', async () => {
    const error = await rejection(
      chooseRestoreClient(
        restoreInputs(from19('1.17'), { major: 19 }, { request: { kind: 'major', major: 18 } }),
        NEWER(),
      ),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'postgres-version: pg_restore 18 cannot read archive format 1.17; expected 19 or newer (or auto)',
    );
  });

  it('refuses a 19 dump into 18 without allow-downgrade, naming both versions', async () => {
    const error = await rejection(
      chooseRestoreClient(restoreInputs(from19('1.17'), { major: 18, minor: 4 }), NEWER()),
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(
      /^allow-downgrade: the dump comes from a PostgreSQL 19\.0 server and the target runs PostgreSQL 18\.4/,
    );
  });

  it('copies 19 → 20 with 19 dumping and 20 restoring', async () => {
    const { dump, restore } = await chooseCopyClients(V19, { major: 20 }, AUTO, false, NEWER());
    expect(dump.version).toEqual({ major: 19 });
    expect(restore.version).toEqual({ major: 20 });
    expect(restore.path).toBe('pg_restore');
    expect(said(dump.reason, restore.reason, ...dump.warnings, ...restore.warnings)).not.toMatch(NO_CEILING);
  });

  it('copies 19 → 18 (allowed downgrade) restoring with 19, whose archive format the tables do not know', async () => {
    const { dump, restore } = await chooseCopyClients(V19, { major: 18 }, AUTO, true, NEWER());
    expect(dump.version).toEqual({ major: 19 });
    expect(restore.version).toEqual({ major: 19 });
    expect(restore.path).toBe('script');
    expect(restore.reason).toBe('the archive (written by pg_dump 19) needs pg_restore 19 or newer');
  });

  it('installs the newest major that can be had, 20', async () => {
    const choice = await chooseInstallClient(undefined, AUTO, NEWER());
    expect(choice.version).toEqual({ major: 20 });
  });
});
