import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InventoryEntry } from './inventory-scanner.ts';

/** A hash added to the baseline after the inventory: maintenance mode or an operator's allow. */
export interface LearnedHash {
  path: string;
  at: string;
  why: 'maintenance' | 'operator';
}

type StoredOwner = ['dpkg' | 'rpm', string, 0 | 1, string];

export interface StoredState {
  roots: string[];
  /** The exclusions of that scan (absent in inventories written before they were stored). */
  exclude?: string[];
  scannedAt?: string;
  files: Map<string, InventoryEntry>;
  learned: Map<string, LearnedHash>;
  /** Local allow/block decisions made on this computer (`palisade appcontrol allow|block`). */
  local: Map<string, 'allow' | 'block'>;
}

function writeAtomic(path: string, data: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
  renameSync(tmp, path);
}

function readJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // A torn file from a crash: the inventory is rebuilt, which is slow but correct.
    return undefined;
  }
}

/**
 * The module's files in its data directory: `inventory.json` (the scanned baseline),
 * `learned.json` and `local-rules.json`. Written whole and renamed into place.
 */
export class InventoryStore {
  constructor(private readonly dir: string) {}

  load(): StoredState {
    const inv = readJson(join(this.dir, 'inventory.json')) as
      | {
          roots?: string[];
          exclude?: string[];
          scannedAt?: string;
          files?: Record<string, [string, InventoryEntry['kind'], number, number, number, number, StoredOwner?]>;
        }
      | undefined;
    const files = new Map<string, InventoryEntry>();
    for (const [path, [sha256, kind, size, mtimeMs, ctimeMs, ino, owner]] of Object.entries(inv?.files ?? {})) {
      files.set(path, {
        sha256,
        kind,
        size,
        mtimeMs,
        ctimeMs,
        ino,
        ...(owner ? { pkg: { manager: owner[0], name: owner[1], intact: owner[2] === 1 }, pkgDigest: owner[3] } : {}),
      });
    }
    const learned = new Map(Object.entries((readJson(join(this.dir, 'learned.json')) as Record<string, LearnedHash> | undefined) ?? {}));
    const local = new Map(
      Object.entries((readJson(join(this.dir, 'local-rules.json')) as Record<string, 'allow' | 'block'> | undefined) ?? {}),
    );
    return {
      roots: inv?.roots ?? [],
      ...(inv?.exclude ? { exclude: inv.exclude } : {}),
      ...(inv?.scannedAt ? { scannedAt: inv.scannedAt } : {}),
      files,
      learned,
      local,
    };
  }

  saveInventory(roots: readonly string[], exclude: readonly string[], files: ReadonlyMap<string, InventoryEntry>, scannedAt: string): void {
    const out: Record<string, unknown[]> = {};
    for (const [p, e] of files) {
      const row: unknown[] = [e.sha256, e.kind, e.size, e.mtimeMs, e.ctimeMs, e.ino];
      if (e.pkg) row.push([e.pkg.manager, e.pkg.name, e.pkg.intact ? 1 : 0, e.pkgDigest ?? ''] satisfies StoredOwner);
      out[p] = row;
    }
    writeAtomic(join(this.dir, 'inventory.json'), { version: 1, roots, exclude, scannedAt, files: out });
  }

  saveLearned(learned: ReadonlyMap<string, LearnedHash>): void {
    writeAtomic(join(this.dir, 'learned.json'), Object.fromEntries(learned));
  }

  saveLocal(local: ReadonlyMap<string, 'allow' | 'block'>): void {
    writeAtomic(join(this.dir, 'local-rules.json'), Object.fromEntries(local));
  }
}
