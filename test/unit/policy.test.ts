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
  readonly asked: Array<[number, number]> = [];
  private readonly majors: number[];
  constructor(...majors: number[]) {
    this.majors = [...majors].sort((a, b) => a - b);
  }
  lowestAvailableFrom(from: number, upTo: number): Promise<number | undefined> {
    this.asked.push([from, upTo]);
    return Promise.resolve(this.majors.find((m) => m >= from && m <= upTo));
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
    expect(catalog.asked).toEqual([[15, 18]]);
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

  it('refuses a server newer than any supported client', async () => {
    const error = await rejection(chooseDumpClient({ major: 19, minor: 0 }, AUTO, ALL()));
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toMatch(/PostgreSQL 19\.0, newer than any client pgferry supports \(up to 18\)/);
    const pinned = await rejection(chooseDumpClient({ major: 19 }, { kind: 'major', major: 18 }, ALL()));
    expect(pinned.message).toMatch(/newer than any client pgferry supports/);
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
    expect(choice.reason).toBe('the archive (format 1.16) needs pg_restore 17 or newer');
    expect(choice.warnings).toHaveLength(1);
    expect(choice.warnings[0]).toMatch(/^pg_restore 17 sets transaction_timeout, which PostgreSQL 16/);
    expect(choice.warnings[0]).toMatch(/no parallel restore/);
    expect(catalog.asked).toEqual([[17, 18]]);
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
        customArchive('1.16', { major: 18, minor: 1 }),
        { major: 15, minor: 13 },
        {
          allowDowngrade: true,
        },
      ),
      ALL(),
    );
    expect(choice.version).toEqual({ major: 17 });
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

  it('refuses an archive newer than any supported pg_restore reads', async () => {
    const error = await rejection(
      chooseRestoreClient(restoreInputs(customArchive('1.17', { major: 18 }), { major: 18 }), ALL()),
    );
    expect(error).toBeInstanceOf(PgferryError);
    expect(error.message).toMatch(/format version 1\.17, newer than any pg_restore/);
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

  it('allows 18 → 15 with allow-downgrade: dump with 18, restore through the script path', async () => {
    const { dump, restore } = await chooseCopyClients(
      { major: 18, minor: 1 },
      { major: 15, minor: 13 },
      AUTO,
      true,
      ALL(),
    );
    expect(dump.version).toEqual({ major: 18 });
    expect(restore.version).toEqual({ major: 17 });
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
