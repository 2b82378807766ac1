import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalPackagePath,
  dpkgPackageOfInfoFile,
  type PackageIndex,
  parseDpkgMd5sums,
  parseRpmFileDigests,
  RPM_QUERY_FORMAT,
} from '@palisade/app-control';

export interface PackageDatabaseOptions {
  /** dpkg's info directory (default /var/lib/dpkg/info); null = do not read dpkg. */
  dpkgInfoDir?: string | null;
  /** Query rpm when it and its database are present (default true). */
  rpm?: boolean;
  /** The root whose top-level symlinks (usr-merge) rewrite package paths (default /). */
  root?: string;
}

export interface LoadedPackages {
  index: PackageIndex;
  /** Which databases were read. */
  sources: ('dpkg' | 'rpm')[];
  skipped: number;
  /** Changes when a package database changes (see packageDatabaseStamp). */
  stamp: string;
}

const DEFAULT_DPKG_INFO = '/var/lib/dpkg/info';
const RPM_DBS = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];

/** `/bin` -> `/usr/bin` and the like, for every top-level directory that is a symlink. */
export function topLevelAliases(root = '/'): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const p = join(root, name);
    try {
      if (!lstatSync(p).isSymbolicLink()) continue;
      const target = readlinkSync(p);
      out.set(`/${name}`, target.startsWith('/') ? target.replace(/\/+$/, '') : `/${target.replace(/\/+$/, '')}`);
    } catch {
      // Not there.
    }
  }
  return out;
}

function mtimeOf(p: string): string {
  try {
    return String(statSync(p).mtimeMs);
  } catch {
    return '-';
  }
}

/**
 * A cheap fingerprint of the package databases: dpkg rewrites its info directory and status file
 * on every install/upgrade, rpm its database directory.
 */
export function packageDatabaseStamp(o: PackageDatabaseOptions = {}): string {
  const dpkg = o.dpkgInfoDir === null ? undefined : (o.dpkgInfoDir ?? DEFAULT_DPKG_INFO);
  const parts = dpkg ? [mtimeOf(dpkg), mtimeOf(join(dpkg, '..', 'status'))] : [];
  if (o.rpm !== false) for (const d of RPM_DBS) parts.push(mtimeOf(d));
  return parts.join(':');
}

function rpmAvailable(): boolean {
  return RPM_DBS.some((d) => existsSync(d)) && ['/usr/bin/rpm', '/bin/rpm'].some((p) => existsSync(p));
}

/**
 * Reads what the host's package databases recorded for each file they installed: dpkg's
 * `*.md5sums` (MD5) and, where rpm is present, rpm's file digests (usually SHA-256). Paths are
 * rewritten onto the usr-merged path the kernel reports. Synchronous: a few thousand small
 * files, read once at start and again only when the databases change.
 */
export function loadPackageDatabase(o: PackageDatabaseOptions = {}): LoadedPackages {
  const db = new PackageDatabase(o);
  return { index: db.index, sources: db.sources, skipped: db.skipped, stamp: db.stamp };
}

/**
 * The package index, kept current cheaply: refresh() does nothing while the databases' stamp is
 * unchanged, and after a dpkg run re-reads only the `*.md5sums` files that changed (an upgrade
 * touches a few; reading all of them takes about a second on a loaded machine, and the
 * enforcement thread must not stop answering for that long).
 */
export class PackageDatabase {
  index: PackageIndex = new Map();
  sources: LoadedPackages['sources'] = [];
  skipped = 0;
  stamp = '';
  private readonly dpkg: string | undefined;
  private readonly aliases: Map<string, string>;
  /** dpkg info file -> its mtime and the (canonical) paths it listed. */
  private readonly dpkgFiles = new Map<string, { mtimeMs: number; paths: string[] }>();
  private rpmPaths: string[] = [];

  constructor(private readonly o: PackageDatabaseOptions = {}) {
    this.dpkg = o.dpkgInfoDir === null ? undefined : (o.dpkgInfoDir ?? DEFAULT_DPKG_INFO);
    this.aliases = topLevelAliases(o.root);
    this.refresh(true);
  }

  /** Re-reads what changed; true when anything did. */
  refresh(force = false): boolean {
    const stamp = packageDatabaseStamp(this.o);
    if (!force && stamp === this.stamp) return false;
    const rpmChanged = force || stamp.split(':').slice(2).join(':') !== this.stamp.split(':').slice(2).join(':');
    this.stamp = stamp;
    const sources: LoadedPackages['sources'] = [];
    if (this.dpkg && existsSync(this.dpkg)) {
      sources.push('dpkg');
      this.refreshDpkg(this.dpkg);
    }
    if (this.o.rpm !== false && rpmAvailable()) {
      if (rpmChanged) this.reloadRpm();
      if (this.rpmPaths.length > 0) sources.push('rpm');
    }
    this.sources = sources;
    return true;
  }

  private refreshDpkg(dir: string): void {
    const seen = new Set<string>();
    for (const f of readdirSync(dir)) {
      const pkg = dpkgPackageOfInfoFile(f);
      if (!pkg) continue;
      seen.add(f);
      let mtimeMs: number;
      try {
        mtimeMs = statSync(join(dir, f)).mtimeMs;
      } catch {
        continue;
      }
      const known = this.dpkgFiles.get(f);
      if (known && known.mtimeMs === mtimeMs) continue;
      for (const p of known?.paths ?? []) if (this.index.get(p)?.manager === 'dpkg') this.index.delete(p);
      const parsed = new Map() as PackageIndex;
      try {
        this.skipped += parseDpkgMd5sums(readFileSync(join(dir, f), 'utf8'), pkg, parsed).skipped;
      } catch {
        this.skipped++;
      }
      const paths: string[] = [];
      for (const [p, rec] of parsed) {
        const c = canonicalPackagePath(p, this.aliases);
        this.index.set(c, rec);
        paths.push(c);
      }
      this.dpkgFiles.set(f, { mtimeMs, paths });
    }
    // Removed packages: their files are nobody's any more.
    for (const [f, known] of this.dpkgFiles) {
      if (seen.has(f)) continue;
      for (const p of known.paths) if (this.index.get(p)?.manager === 'dpkg') this.index.delete(p);
      this.dpkgFiles.delete(f);
    }
  }

  private reloadRpm(): void {
    for (const p of this.rpmPaths) if (this.index.get(p)?.manager === 'rpm') this.index.delete(p);
    this.rpmPaths = [];
    const r = spawnSync('rpm', ['-qa', '--queryformat', RPM_QUERY_FORMAT], { encoding: 'utf8', maxBuffer: 512 << 20, timeout: 60_000 });
    if (r.status !== 0) return;
    const parsed = new Map() as PackageIndex;
    this.skipped += parseRpmFileDigests(r.stdout, parsed).skipped;
    for (const [p, rec] of parsed) {
      const c = canonicalPackagePath(p, this.aliases);
      this.index.set(c, rec);
      this.rpmPaths.push(c);
    }
  }
}
