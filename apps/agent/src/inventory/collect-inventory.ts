import { type Dirent, existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '@palisade/diagnostics';
import {
  type Inventory,
  type InventoryItem,
  type InventoryParse,
  type ListeningPort,
  parseApkInstalled,
  parseCargoLock,
  parseComposerLock,
  parseGemfileLock,
  parseDpkgStatus,
  parseGoBuildInfo,
  parseJavaArchive,
  parseNodePackageJson,
  parseOsRelease,
  parsePackageLock,
  parsePnpmLock,
  parseProcNetTcp,
  parsePythonMetadata,
  parseYarnLock,
} from '@palisade/vuln';
import { readProcesses } from './read-processes.ts';
import { readRpmDatabase } from './read-rpm-database.ts';
import { readSocketOwners } from './read-socket-owners.ts';

/**
 * Where applications live on typical servers. Package-manager-owned trees (/usr/lib, /usr/share
 * except java) are left to dpkg/rpm/apk so that the same code is not reported twice.
 */
export const DEFAULT_APP_DIRS = ['opt', 'srv', 'app', 'home', 'root', 'usr/local', 'usr/share/java', 'var/www', 'var/lib/tomcat9', 'var/lib/jenkins'];

export interface CollectOptions {
  /** Filesystem root to inventory; `/` for the live host, any directory for an image or a fixture. */
  root?: string;
  /** Folders (relative to root) searched for language packages and jars; `.` means the whole root. */
  appDirs?: string[];
  /** Look into executables for Go build info (reads each ELF file up to `maxBinaryBytes`). */
  goBinaries?: boolean;
  maxArchiveBytes?: number;
  maxBinaryBytes?: number;
  /** Where /proc lives; ports are read only when scanning the live root (`/`) unless given. */
  procDir?: string;
}

const SKIP_DIRS = new Set(['proc', 'sys', 'dev', '.git', '.cache', '.npm', '__pycache__', 'lost+found']);
const JAVA_ARCHIVE = /\.(jar|war|ear|hpi|jpi)$/i;
// First match wins: one lockfile describes the project's node_modules.
const NODE_LOCKFILES: [string, (text: string, file: string) => InventoryParse][] = [
  ['package-lock.json', parsePackageLock],
  ['npm-shrinkwrap.json', parsePackageLock],
  ['yarn.lock', parseYarnLock],
  ['pnpm-lock.yaml', parsePnpmLock],
];
const LOCKFILES: Record<string, (text: string, file: string) => InventoryParse> = {
  'composer.lock': parseComposerLock,
  'Gemfile.lock': parseGemfileLock,
  'Cargo.lock': parseCargoLock,
};

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function isElf(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, 0);
    return buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/**
 * Collects the software inventory of a filesystem tree: the OS packages (dpkg, apk, rpm),
 * language packages and Java archives under the application folders, and, for the live host,
 * listening ports and running processes.
 * Unreadable or corrupt inputs become diagnostics; collection always completes.
 * Locations in the result are absolute paths as seen from inside `root`.
 */
export async function collectInventory(opts: CollectOptions = {}): Promise<Inventory> {
  const root = path.resolve(opts.root ?? '/');
  const rel = (abs: string) => `/${path.relative(root, abs).split(path.sep).join('/')}`;
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  const take = (r: InventoryParse | undefined) => {
    if (!r) return;
    for (const i of r.items) items.push(i);
    for (const d of r.diagnostics) diagnostics.push(d);
  };

  const osText = (await readText(path.join(root, 'etc/os-release'))) ?? (await readText(path.join(root, 'usr/lib/os-release')));
  const os = osText !== undefined ? parseOsRelease(osText) : undefined;
  const distro = os && os.versionId ? `${os.id}-${os.versionId}` : undefined;

  const dpkg = await readText(path.join(root, 'var/lib/dpkg/status'));
  if (dpkg !== undefined) {
    const ecosystem = os?.ecosystem && /^(Debian|Ubuntu)/.test(os.ecosystem) ? os.ecosystem : os?.id === 'ubuntu' ? 'Ubuntu' : 'Debian';
    take(parseDpkgStatus(dpkg, '/var/lib/dpkg/status', { ecosystem, purlNamespace: os?.id === 'ubuntu' ? 'ubuntu' : 'debian', distro }));
  }
  const apk = await readText(path.join(root, 'lib/apk/db/installed'));
  if (apk !== undefined) take(parseApkInstalled(apk, '/lib/apk/db/installed', { ecosystem: os?.ecosystem ?? 'Alpine', distro }));
  take(await readRpmDatabase(root, { ecosystem: os?.ecosystem ?? 'Red Hat', purlNamespace: os?.id, distro }));

  const maxArchive = opts.maxArchiveBytes ?? 512 * 1024 * 1024;
  const maxBinary = opts.maxBinaryBytes ?? 128 * 1024 * 1024;
  const goBinaries = opts.goBinaries ?? true;
  const visited = new Set<string>();

  const readBytes = async (file: string, limit: number): Promise<Buffer | undefined> => {
    try {
      const st = await stat(file);
      if (st.size > limit) {
        diagnostics.push({ code: 'VULN_INVENTORY_TOO_LARGE', severity: 'warning', message: `${st.size} bytes exceeds the ${limit} byte limit; not inspected`, file: rel(file) });
        return undefined;
      }
      return await readFile(file);
    } catch (err) {
      diagnostics.push({ code: 'VULN_INVENTORY_READ', severity: 'warning', message: `cannot read: ${(err as Error).message}`, file: rel(file) });
      return undefined;
    }
  };

  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 40 || visited.has(dir)) return;
    visited.add(dir);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      diagnostics.push({ code: 'VULN_INVENTORY_READ', severity: 'warning', message: `cannot list: ${(err as Error).message}`, file: rel(dir) });
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    // A lockfile describes node_modules completely (and with fewer reads), so the tree is skipped.
    const lock = NODE_LOCKFILES.find(([name]) => names.has(name));
    if (lock) {
      const text = await readText(path.join(dir, lock[0]));
      if (text !== undefined) take(lock[1](text, rel(path.join(dir, lock[0]))));
    }
    const parent = path.basename(path.dirname(dir));
    // node_modules/<name>/ and node_modules/@scope/<name>/ are installed packages.
    const isInstalledPackage =
      parent === 'node_modules' || (parent.startsWith('@') && path.basename(path.dirname(path.dirname(dir))) === 'node_modules');
    if (isInstalledPackage && names.has('package.json')) {
      const text = await readText(path.join(dir, 'package.json'));
      if (text !== undefined) take(parseNodePackageJson(text, rel(path.join(dir, 'package.json'))));
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        if (SKIP_DIRS.has(e.name)) continue;
        if (e.name === 'node_modules' && lock) continue;
        if (/\.(dist-info|egg-info)$/.test(e.name)) {
          const meta = path.join(full, e.name.endsWith('.dist-info') ? 'METADATA' : 'PKG-INFO');
          const text = await readText(meta);
          if (text !== undefined) take(parsePythonMetadata(text, rel(meta)));
          continue;
        }
        await walk(full, depth + 1);
        continue;
      }
      if (!e.isFile()) continue;
      const lockParser = LOCKFILES[e.name];
      if (lockParser) {
        const text = await readText(full);
        if (text !== undefined) take(lockParser(text, rel(full)));
      } else if (e.name.endsWith('.egg-info')) {
        // Old setuptools installs write PKG-INFO content directly as a `*.egg-info` file.
        const text = await readText(full);
        if (text !== undefined) take(parsePythonMetadata(text, rel(full)));
      } else if (JAVA_ARCHIVE.test(e.name)) {
        const bytes = await readBytes(full, maxArchive);
        if (bytes) take(parseJavaArchive(bytes, rel(full)));
      } else if (goBinaries && !e.name.includes('.') && (await isElf(full))) {
        const bytes = await readBytes(full, maxBinary);
        if (bytes) take(parseGoBuildInfo(bytes, rel(full)));
      }
    }
  };
  for (const d of opts.appDirs ?? DEFAULT_APP_DIRS) {
    const dir = path.resolve(root, d);
    if (existsSync(dir)) await walk(dir, 0);
  }

  const ports: ListeningPort[] = [];
  const procDir = opts.procDir ?? (root === '/' ? '/proc' : undefined);
  if (procDir) {
    for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
      const text = await readText(path.join(procDir, 'net', proto));
      if (text !== undefined) ports.push(...parseProcNetTcp(text, proto));
    }
    const owners = await readSocketOwners(procDir, new Set(ports.map((p) => p.inode).filter((i) => i > 0)));
    for (const p of ports) {
      const o = owners.get(p.inode);
      if (o) Object.assign(p, o);
    }
  }
  const inventory: Inventory = { items, ports, diagnostics };
  if (os) inventory.os = os;
  if (procDir) inventory.processes = await readProcesses(procDir);
  return inventory;
}
