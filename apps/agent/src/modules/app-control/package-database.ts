import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalPackagePath,
  dpkgPackageOfInfoFile,
  type PackageFile,
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

/** What inventory and enforcement need of the package index: the record of one path. */
export interface PackageLookup {
  get(path: string): PackageFile | undefined;
  has(path: string): boolean;
  readonly size: number;
}

/**
 * A 53-bit hash of a path (two 32-bit FNV-1a variants): the package index keys on this number
 * instead of holding ~120,000 path strings. Two paths sharing a key (odds ~1e-6 for a whole
 * dpkg database) would only make a file look package-owned when its digest also equals the
 * one recorded for the other path.
 */
export function packagePathKey(path: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

const MANAGERS = ['dpkg', 'rpm'] as const;
const ALGOS = ['md5', 'sha256'] as const;

/**
 * The package index in compact form (~15 bytes of key, 16 of MD5 or 32 of SHA-256 and 4 of package per file
 * instead of a path string, an object and a hex string: dpkg's 121,181 files on the bench host
 * took 37 MB of heap as a Map of objects). Records are slots in typed arrays; a freed slot is
 * reused.
 */
export class CompactPackageIndex implements PackageLookup {
  private readonly slots = new Map<number, number>();
  /** MD5s (dpkg, old rpm), 16 bytes a slot; SHA-256s (rpm) in their own array, made on first use. */
  private md5s = new Uint8Array(16 * 1024);
  private sha256s: Uint8Array | undefined;
  private meta = new Uint32Array(1024);
  private used = 0;
  private readonly free: number[] = [];
  private readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();

  get size(): number {
    return this.slots.size;
  }

  has(path: string): boolean {
    return this.slots.has(packagePathKey(path));
  }

  get(path: string): PackageFile | undefined {
    const slot = this.slots.get(packagePathKey(path));
    if (slot === undefined) return undefined;
    const m = this.meta[slot]!;
    const algo = ALGOS[(m >>> 1) & 1]!;
    const bytes = algo === 'md5' ? this.md5s.subarray(slot * 16, slot * 16 + 16) : this.sha256s!.subarray(slot * 32, slot * 32 + 32);
    return {
      manager: MANAGERS[m & 1]!,
      name: this.names[m >>> 2]!,
      algo,
      digest: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex'),
    };
  }

  /** The manager recorded under `key` (see packagePathKey), if any. */
  managerOfKey(key: number): PackageFile['manager'] | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : MANAGERS[this.meta[slot]! & 1];
  }

  /** Records `rec` for `path`; returns the path's key. */
  set(path: string, rec: PackageFile): number {
    const key = packagePathKey(path);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.used++;
      if (slot >= this.meta.length) this.grow();
      this.slots.set(key, slot);
    }
    let nameId = this.nameIds.get(rec.name);
    if (nameId === undefined) {
      nameId = this.names.push(rec.name) - 1;
      this.nameIds.set(rec.name, nameId);
    }
    this.meta[slot] = (nameId << 2) | ((rec.algo === 'sha256' ? 1 : 0) << 1) | (rec.manager === 'rpm' ? 1 : 0);
    if (rec.algo === 'md5') Buffer.from(this.md5s.buffer, this.md5s.byteOffset + slot * 16, 16).write(rec.digest, 'hex');
    else {
      this.sha256s ??= new Uint8Array(this.meta.length * 32);
      Buffer.from(this.sha256s.buffer, this.sha256s.byteOffset + slot * 32, 32).write(rec.digest, 'hex');
    }
    return key;
  }

  deleteKey(key: number): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.free.push(slot);
  }

  private grow(): void {
    const meta = new Uint32Array(this.meta.length * 2);
    meta.set(this.meta);
    this.meta = meta;
    const md5s = new Uint8Array(this.md5s.length * 2);
    md5s.set(this.md5s);
    this.md5s = md5s;
    if (this.sha256s) {
      const sha256s = new Uint8Array(this.sha256s.length * 2);
      sha256s.set(this.sha256s);
      this.sha256s = sha256s;
    }
  }
}

export interface LoadedPackages {
  index: CompactPackageIndex;
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
  index = new CompactPackageIndex();
  sources: LoadedPackages['sources'] = [];
  skipped = 0;
  stamp = '';
  private readonly dpkg: string | undefined;
  private readonly aliases: Map<string, string>;
  /** dpkg info file -> its mtime and the keys (packagePathKey) of the canonical paths it listed. */
  private readonly dpkgFiles = new Map<string, { mtimeMs: number; keys: Float64Array }>();
  private rpmKeys: number[] = [];

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
      if (this.rpmKeys.length > 0) sources.push('rpm');
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
      if (known) this.forget(known.keys, 'dpkg');
      const parsed = new Map() as PackageIndex;
      try {
        this.skipped += parseDpkgMd5sums(readFileSync(join(dir, f), 'utf8'), pkg, parsed).skipped;
      } catch {
        this.skipped++;
      }
      const keys = new Float64Array(parsed.size);
      let i = 0;
      for (const [p, rec] of parsed) keys[i++] = this.index.set(canonicalPackagePath(p, this.aliases), rec);
      this.dpkgFiles.set(f, { mtimeMs, keys });
    }
    // Removed packages: their files are nobody's any more.
    for (const [f, known] of this.dpkgFiles) {
      if (seen.has(f)) continue;
      this.forget(known.keys, 'dpkg');
      this.dpkgFiles.delete(f);
    }
  }

  /** Drops the records under `keys` that `manager` made (another database may own a path since). */
  private forget(keys: ArrayLike<number>, manager: PackageFile['manager']): void {
    for (let i = 0; i < keys.length; i++) if (this.index.managerOfKey(keys[i]!) === manager) this.index.deleteKey(keys[i]!);
  }

  private reloadRpm(): void {
    this.forget(this.rpmKeys, 'rpm');
    this.rpmKeys = [];
    const r = spawnSync('rpm', ['-qa', '--queryformat', RPM_QUERY_FORMAT], { encoding: 'utf8', maxBuffer: 512 << 20, timeout: 60_000 });
    if (r.status !== 0) return;
    const parsed = new Map() as PackageIndex;
    this.skipped += parseRpmFileDigests(r.stdout, parsed).skipped;
    for (const [p, rec] of parsed) this.rpmKeys.push(this.index.set(canonicalPackagePath(p, this.aliases), rec));
  }
}
