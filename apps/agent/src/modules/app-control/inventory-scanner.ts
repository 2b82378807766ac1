import { closeSync, constants, lstatSync, openSync, readSync } from 'node:fs';
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { compilePathPattern, type PackageFile } from '@palisade/app-control';
import type { PackageLookup } from './package-database.ts';
import type { HashPool } from '../../fim/hash-pool.ts';

export type ExecutableKind = 'elf' | 'library' | 'script' | 'executable';

/** One inventoried file. `ino`/`size`/`mtimeMs`/`ctimeMs` decide whether a rescan may reuse the hash. */
export interface InventoryEntry {
  sha256: string;
  kind: ExecutableKind;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Set when a package database lists the file: its owner and whether the content matches the record. */
  pkg?: { manager: 'dpkg' | 'rpm'; name: string; intact: boolean };
  /** The file's digest in the package database's algorithm (MD5 for dpkg), to re-check without reading. */
  pkgDigest?: string;
  /** Owner (not stored with the inventory; disk checks report it). */
  uid?: number;
}

export interface ScanProgress {
  phase: 'walking' | 'hashing';
  /** Files found so far (walking) or in all (hashing). */
  files: number;
  /** Files that need hashing, and how many are done. */
  toHash: number;
  hashed: number;
}

export interface ScanOptions {
  roots: readonly string[];
  exclude: readonly string[];
  pool: HashPool;
  /** The previous inventory: unchanged files keep their hash without being read again. */
  previous?: ReadonlyMap<string, InventoryEntry>;
  /** What the package databases recorded: owned files are hashed with their algorithm too. */
  packages?: PackageLookup;
  onProgress?: (p: ScanProgress) => void;
  /** Ends the walk early (the module stopping or its roots changing); the scan then throws. */
  signal?: AbortSignal;
}

export interface ScanResult {
  files: Map<string, InventoryEntry>;
  hashed: number;
  reused: number;
  errors: number;
}

const LIBRARY_NAME = /\.so(\.\d+)*$/;

function head(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 ? b : b.subarray(0, 2);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * What can run: ELF files and shebang scripts with an execute bit, and shared libraries (which
 * are mapped, not executed, and usually lack the bit). Only files with an execute bit or a
 * library name are opened at all, so a scan of /usr does not read every man page.
 */
function classify(path: string, mode: number): ExecutableKind | undefined {
  const executable = (mode & 0o111) !== 0;
  const libName = LIBRARY_NAME.test(path);
  if (!executable && !libName) return undefined;
  const h = head(path);
  if (!h) return undefined;
  if (h.length === 4 && h[0] === 0x7f && h[1] === 0x45 && h[2] === 0x4c && h[3] === 0x46) return libName && !executable ? 'library' : 'elf';
  if (h[0] === 0x23 && h[1] === 0x21) return executable ? 'script' : undefined;
  return executable ? 'executable' : undefined;
}

/**
 * Walks the roots (never following symlinks, never leaving a root's filesystem: other
 * filesystems are roots of their own or excluded on purpose) and hashes what can run in the
 * FIM hash pool's worker threads.
 */
export async function scanInventory(o: ScanOptions): Promise<ScanResult> {
  const excluded = o.exclude.map(compilePathPattern);
  const isExcluded = (p: string) => excluded.some((m) => m(p));
  const found: { path: string; kind: ExecutableKind; size: number; mtimeMs: number; ctimeMs: number; ino: number; uid: number }[] = [];
  let errors = 0;
  const visit = async (dir: string, dev: number) => {
    let d: Awaited<ReturnType<typeof opendir>>;
    try {
      d = await opendir(dir);
    } catch {
      errors++;
      return;
    }
    for await (const ent of d) {
      if (o.signal?.aborted) break;
      const path = join(dir, ent.name);
      if (isExcluded(path)) continue;
      if (ent.isDirectory()) {
        try {
          const st = lstatSync(path);
          if (st.dev === dev) await visit(path, dev);
        } catch {
          errors++;
        }
      } else if (ent.isFile()) {
        try {
          const st = lstatSync(path);
          const kind = classify(path, st.mode);
          if (kind) {
            found.push({ path, kind, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, uid: st.uid });
            if (found.length % 500 === 0) o.onProgress?.({ phase: 'walking', files: found.length, toHash: 0, hashed: 0 });
          }
        } catch {
          errors++;
        }
      }
    }
  };
  for (const root of o.roots) {
    try {
      const st = lstatSync(root);
      if (st.isDirectory()) await visit(root, st.dev);
    } catch {
      errors++;
    }
  }
  o.signal?.throwIfAborted();
  const files = new Map<string, InventoryEntry>();
  const toHash: typeof found = [];
  let reused = 0;
  for (const f of found) {
    const prev = o.previous?.get(f.path);
    const owner = o.packages?.get(f.path);
    const unchanged = prev && prev.size === f.size && prev.mtimeMs === f.mtimeMs && prev.ctimeMs === f.ctimeMs && prev.ino === f.ino;
    // A file a package now lists but whose package digest was never computed must be read again.
    if (unchanged && (!owner || prev.pkgDigest !== undefined)) {
      const { pkg: _old, pkgDigest, ...rest } = prev;
      files.set(f.path, {
        ...rest,
        kind: f.kind,
        uid: f.uid,
        ...ownership(owner, owner ? (owner.algo === 'sha256' ? prev.sha256 : pkgDigest) : undefined),
      });
      reused++;
    } else toHash.push(f);
  }
  o.onProgress?.({ phase: 'hashing', files: found.length, toHash: toHash.length, hashed: 0 });
  const results = await o.pool.hashAll(
    toHash.map((f) => {
      const algo = o.packages?.get(f.path)?.algo;
      return { path: f.path, algos: algo && algo !== 'sha256' ? ['sha256', algo] : ['sha256'], size: f.size };
    }),
    (done) => o.onProgress?.({ phase: 'hashing', files: found.length, toHash: toHash.length, hashed: done }),
  );
  o.signal?.throwIfAborted();
  toHash.forEach((f, i) => {
    const r = results[i];
    if (r && 'hashes' in r && r.hashes.sha256) {
      const owner = o.packages?.get(f.path);
      files.set(f.path, {
        sha256: r.hashes.sha256,
        kind: f.kind,
        size: f.size,
        mtimeMs: f.mtimeMs,
        ctimeMs: f.ctimeMs,
        ino: f.ino,
        uid: f.uid,
        ...ownership(owner, owner ? r.hashes[owner.algo] : undefined),
      });
    } else errors++;
  });
  return { files, hashed: toHash.length, reused, errors };
}

/** Owner and intactness: a package file whose digest differs from the record is not the package's any more. */
function ownership(owner: PackageFile | undefined, digest: string | undefined): Pick<InventoryEntry, 'pkg' | 'pkgDigest'> {
  if (!owner || digest === undefined) return {};
  return { pkg: { manager: owner.manager, name: owner.name, intact: digest === owner.digest }, pkgDigest: digest };
}
