import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropPostgresInstallation } from '../store/database-factory.ts';
import type { StoreLocation } from '../store/store-location.ts';

/** PostgreSQL for tests: the machine's server (trust auth on 127.0.0.1), overridable. */
export const TEST_PG_URL = process.env.PALISADE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestLocation {
  name: 'sqlite' | 'postgres';
  location: StoreLocation;
  /** The `--db` value a manager process would take for the same installation. */
  dbArg: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

/**
 * A fresh, empty installation on each backend. PostgreSQL installations get a random schema
 * prefix so parallel test files never see each other's data.
 */
export function testLocations(): Array<() => TestLocation> {
  return [
    () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'palisade-test-'));
      return {
        name: 'sqlite',
        location: { kind: 'sqlite', dataDir },
        dbArg: 'sqlite',
        dataDir,
        cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
    () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'palisade-test-'));
      const prefix = `ptest_${randomBytes(4).toString('hex')}`;
      return {
        name: 'postgres',
        location: { kind: 'postgres', url: TEST_PG_URL, schemaPrefix: prefix },
        dbArg: `${TEST_PG_URL}?schemaPrefix=${prefix}`,
        dataDir,
        cleanup: async () => {
          await dropPostgresInstallation(TEST_PG_URL, prefix);
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  ];
}
