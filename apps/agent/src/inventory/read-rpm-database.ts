import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Diagnostic } from '@palisade/diagnostics';
import { parseRpmHeader, parseRpmQueryOutput, RPM_QUERYFORMAT, type RpmOptions, type RpmPackage, rpmItems, type InventoryParse } from '@palisade/vuln';
import Database from 'better-sqlite3';

const run = promisify(execFile);

/** rpmdb locations, newest first (Fedora 33+/RHEL 9 moved it under /usr/lib/sysimage). */
const SQLITE_PATHS = ['usr/lib/sysimage/rpm/rpmdb.sqlite', 'var/lib/rpm/rpmdb.sqlite'];

/**
 * Reads installed rpms under `root`: the sqlite rpmdb directly (works on a mounted image or a
 * container root without rpm installed), else `rpm -qa` when scanning the live system.
 * Berkeley DB (RHEL 7/8) and ndb databases are read only through the rpm fallback.
 */
export async function readRpmDatabase(root: string, opts: RpmOptions): Promise<InventoryParse | undefined> {
  for (const rel of SQLITE_PATHS) {
    const file = path.join(root, rel);
    if (!existsSync(file)) continue;
    const diagnostics: Diagnostic[] = [];
    const pkgs: RpmPackage[] = [];
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      for (const row of db.prepare('SELECT hnum, blob FROM Packages').iterate() as Iterable<{ hnum: number; blob: Buffer }>) {
        const pkg = parseRpmHeader(row.blob);
        if (pkg) pkgs.push(pkg);
        else diagnostics.push({ code: 'VULN_INVENTORY_RPM_HEADER', severity: 'warning', message: `header ${row.hnum} unreadable; skipped`, file: `/${rel}` });
      }
    } catch (err) {
      diagnostics.push({ code: 'VULN_INVENTORY_RPMDB', severity: 'error', message: `cannot read rpm database: ${(err as Error).message}`, file: `/${rel}` });
    } finally {
      db?.close();
    }
    return { items: rpmItems(pkgs, `/${rel}`, opts), diagnostics };
  }
  if (path.resolve(root) === '/' && (existsSync('/var/lib/rpm') || existsSync('/usr/lib/sysimage/rpm'))) {
    try {
      const { stdout } = await run('rpm', ['-qa', '--queryformat', RPM_QUERYFORMAT], { maxBuffer: 64 * 1024 * 1024 });
      return parseRpmQueryOutput(stdout, 'rpm -qa', opts);
    } catch (err) {
      return {
        items: [],
        diagnostics: [{ code: 'VULN_INVENTORY_RPMDB', severity: 'error', message: `rpm -qa failed: ${(err as Error).message}`, file: '/var/lib/rpm' }],
      };
    }
  }
  return undefined;
}
