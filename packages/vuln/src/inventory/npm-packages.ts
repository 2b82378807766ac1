import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

export function npmItem(name: string, version: string, location: string): InventoryItem {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  const purl =
    slash > 0 ? makePurl('npm', name.slice(0, slash), name.slice(slash + 1), version) : makePurl('npm', undefined, name, version);
  return { ecosystem: 'npm', name, version, purl, location };
}

function parseJson(text: string, file: string, diagnostics: Diagnostic[]): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    diagnostics.push({ code: 'VULN_INVENTORY_JSON', severity: 'error', message: `not valid JSON: ${(err as Error).message}`, file });
    return undefined;
  }
}

/** Name of the package installed at a lockfile `packages` key (`node_modules/a/node_modules/@s/b` -> `@s/b`). */
function nameFromLockPath(p: string): string | undefined {
  const i = p.lastIndexOf('node_modules/');
  return i < 0 ? undefined : p.slice(i + 'node_modules/'.length);
}

interface LockV1Dep {
  version?: string;
  bundled?: boolean;
  dependencies?: Record<string, LockV1Dep>;
}

/**
 * Parses `package-lock.json` v1, v2 and v3 (and `npm-shrinkwrap.json`). v2/v3 list every
 * installed path under `packages`; v1 nests `dependencies`. Linked workspace packages and the
 * root project are not third-party code and are left out. A package installed at several
 * paths with the same version is one item.
 */
export function parsePackageLock(text: string, file: string): InventoryParse {
  const diagnostics: Diagnostic[] = [];
  const items: InventoryItem[] = [];
  const seen = new Set<string>();
  const add = (name: string, version: string) => {
    // v1 writes git/file/alias dependencies into `version`; only registry versions are orderable.
    if (!/^\d/.test(version)) return;
    const key = `${name}@${version}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push(npmItem(name, version, file));
  };
  const lock = parseJson(text, file, diagnostics) as { lockfileVersion?: number; packages?: Record<string, { version?: string; name?: string; link?: boolean }>; dependencies?: Record<string, LockV1Dep> } | undefined;
  if (!lock || typeof lock !== 'object') return { items, diagnostics };
  if (lock.packages && typeof lock.packages === 'object') {
    for (const [p, meta] of Object.entries(lock.packages)) {
      if (p === '' || !meta || meta.link || typeof meta.version !== 'string') continue;
      const name = meta.name && !p.includes('node_modules/') ? meta.name : nameFromLockPath(p);
      if (name) add(name, meta.version);
    }
  } else if (lock.dependencies && typeof lock.dependencies === 'object') {
    const walk = (deps: Record<string, LockV1Dep>) => {
      for (const [name, dep] of Object.entries(deps)) {
        if (dep && typeof dep.version === 'string') add(name, dep.version);
        if (dep?.dependencies) walk(dep.dependencies);
      }
    };
    walk(lock.dependencies);
  } else {
    diagnostics.push({ code: 'VULN_INVENTORY_NPM_LOCK', severity: 'warning', message: 'lockfile has neither "packages" nor "dependencies"', file });
  }
  return { items, diagnostics };
}

/** One installed package from `node_modules/<name>/package.json`. */
export function parseNodePackageJson(text: string, file: string): InventoryParse {
  const diagnostics: Diagnostic[] = [];
  const pkg = parseJson(text, file, diagnostics) as { name?: unknown; version?: unknown } | undefined;
  if (!pkg || typeof pkg.name !== 'string' || typeof pkg.version !== 'string') return { items: [], diagnostics };
  return { items: [npmItem(pkg.name, pkg.version, file)], diagnostics };
}
