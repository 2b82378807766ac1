/** What a package database recorded for one file it installed. */
export interface PackageFile {
  manager: 'dpkg' | 'rpm';
  /** Package name (without the dpkg architecture qualifier). */
  name: string;
  /** Digest algorithm the database used: dpkg records MD5, rpm usually SHA-256. */
  algo: 'md5' | 'sha256';
  digest: string;
}

/** path -> what the package database says about it. */
export type PackageIndex = Map<string, PackageFile>;

const HEX = /^[0-9a-f]+$/;

/**
 * The package name of a dpkg info file: `coreutils.md5sums`, `libc6:amd64.md5sums` ->
 * `coreutils`, `libc6`. Undefined for other files in the info directory.
 */
export function dpkgPackageOfInfoFile(fileName: string): string | undefined {
  if (!fileName.endsWith('.md5sums')) return undefined;
  const base = fileName.slice(0, -'.md5sums'.length);
  const name = base.split(':')[0];
  return name ? name : undefined;
}

/**
 * Parses one `/var/lib/dpkg/info/<pkg>.md5sums` file: lines of `<md5>  <path relative to />`.
 * Lines that are not an MD5 and a path (a truncated file) are skipped and counted.
 */
export function parseDpkgMd5sums(text: string, pkg: string, into: PackageIndex = new Map()): { index: PackageIndex; skipped: number } {
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-fA-F]{32}) {2}(.+)$/.exec(line);
    if (!m) {
      skipped++;
      continue;
    }
    const path = m[2]!.startsWith('/') ? m[2]! : `/${m[2]}`;
    into.set(path, { manager: 'dpkg', name: pkg, algo: 'md5', digest: m[1]!.toLowerCase() });
  }
  return { index: into, skipped };
}

/** The `rpm -qa --queryformat` that parseRpmFileDigests reads: path, digest algorithm, digest, package. */
export const RPM_QUERY_FORMAT = '[%{FILENAMES}\\t%{FILEDIGESTALGO}\\t%{FILEDIGESTS}\\t%{NAME}\\n]';

/**
 * Parses `rpm -qa --queryformat RPM_QUERY_FORMAT`. rpm's digest algorithm numbers (RFC 4880):
 * 1 = MD5, 8 = SHA-256; files without a digest (directories, symlinks, ghosts) and other
 * algorithms are skipped.
 */
export function parseRpmFileDigests(text: string, into: PackageIndex = new Map()): { index: PackageIndex; skipped: number } {
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [path, algoNo, digest, name] = line.split('\t');
    if (!path?.startsWith('/') || !name || !digest || !HEX.test(digest)) {
      skipped++;
      continue;
    }
    const algo = algoNo === '8' && digest.length === 64 ? 'sha256' : algoNo === '1' && digest.length === 32 ? 'md5' : undefined;
    if (!algo) {
      skipped++;
      continue;
    }
    into.set(path, { manager: 'rpm', name, algo, digest: digest.toLowerCase() });
  }
  return { index: into, skipped };
}

/**
 * Rewrites a package path onto the path the kernel reports after usr-merge: packages still
 * list `/bin/ls` while `/bin` is a symlink to `usr/bin`, so the file runs as `/usr/bin/ls`.
 * `aliases` maps a top-level directory that is a symlink to its target (`/bin` -> `/usr/bin`).
 */
export function canonicalPackagePath(path: string, aliases: ReadonlyMap<string, string>): string {
  const slash = path.indexOf('/', 1);
  if (slash < 0) return path;
  const top = path.slice(0, slash);
  const target = aliases.get(top);
  return target ? `${target}${path.slice(slash)}` : path;
}
