import { readFileSync } from 'node:fs';
import { type Entity, entityId, idNames, type IntegrityRuleSet, type NameLookup } from '@palisade/integrity';
import { scanFileTree } from './file-tree-scanner.ts';
import { HashPool } from './hash-pool.ts';
import { type ScanLimits, ScanThrottle } from './scan-throttle.ts';
import { XattrReader } from './xattr-reader.ts';
import type { ScanIssue } from './scan-issue.ts';
import { collectSystemEntities } from './system-collector.ts';

export interface FimScanOptions {
  root: string;
  previous?: readonly Entity[];
  hashWorkers?: number;
  onWalk?: (files: number, path: string) => void;
  onHash?: (filesDone: number, bytesDone: number, filesTotal: number, bytesTotal: number) => void;
  /** A pool kept by the caller (the agent keeps one across real-time rescans); else one is started on demand. */
  hashPool?: HashPool;
  /** Aborting ends the walk and stops the hash workers; the scan then rejects. */
  signal?: AbortSignal;
  /** IO limits (entries walked and bytes hashed per second); none by default. */
  limits?: ScanLimits;
  /**
   * Read xattrs, ACLs and capabilities where the masks compare them (through a perl helper, see
   * XattrReader); off by default, and silently off where the host cannot do it.
   */
  xattrs?: boolean;
}

export interface FimScanResult {
  entities: Entity[];
  issues: ScanIssue[];
  stats: { files: number; hashed: number; reused: number; bytesHashed: number; entities: number };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function nameLookup(root: string): NameLookup {
  const prefix = root === '/' ? '' : root.replace(/\/+$/, '');
  const { users, groups } = idNames(readOptional(`${prefix}/etc/passwd`), readOptional(`${prefix}/etc/group`));
  return { user: (uid) => users.get(uid), group: (gid) => groups.get(gid) };
}

/** Workers start only when something needs hashing: a quiet re-scan should not pay for them. */
function lazyPool(opts: Pick<FimScanOptions, 'hashPool' | 'hashWorkers' | 'signal'>): { pool: HashPool; close: () => Promise<void> } {
  if (opts.hashPool) return { pool: opts.hashPool, close: async () => {} };
  let pool: HashPool | undefined;
  const onAbort = () => void pool?.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const lazy = {
    hashAll: (...args: Parameters<HashPool['hashAll']>) => {
      if (args[0].length === 0) return Promise.resolve([]);
      opts.signal?.throwIfAborted();
      pool ??= new HashPool(opts.hashWorkers);
      return pool.hashAll(...args);
    },
  } as HashPool;
  return {
    pool: lazy,
    close: async () => {
      opts.signal?.removeEventListener('abort', onAbort);
      await pool?.close();
    },
  };
}

/** One full scan: files (with owner names from the scanned tree's own passwd/group) and system entities. */
export async function runFimScan(rules: IntegrityRuleSet, opts: FimScanOptions): Promise<FimScanResult> {
  const previous = new Map<string, Entity>();
  for (const e of opts.previous ?? []) if (e.kind === 'file') previous.set(entityId(e), e);
  const { pool, close } = lazyPool(opts);
  const xattrs = opts.xattrs ? XattrReader.open() : undefined;
  try {
    const files = await scanFileTree(rules, {
      root: opts.root,
      previous,
      names: nameLookup(opts.root),
      hashPool: pool,
      onWalk: opts.onWalk,
      onHash: opts.onHash,
      signal: opts.signal,
      ...(opts.limits ? { throttle: new ScanThrottle(opts.limits) } : {}),
      ...(xattrs ? { xattrs } : {}),
    });
    const system = collectSystemEntities(rules, opts.root);
    const entities = [...files.entities, ...system.entities];
    return { entities, issues: [...files.issues, ...system.issues], stats: { ...files.stats, entities: entities.length } };
  } finally {
    xattrs?.close();
    await close();
  }
}

/**
 * Rescans only some paths (files only, no system sources): what a real-time watcher reported.
 * `previous` is the baseline keyed by entity id, so unchanged files are not re-hashed.
 */
export async function runFimTargetScan(
  rules: IntegrityRuleSet,
  targets: readonly { path: string; recursive: boolean }[],
  opts: Omit<FimScanOptions, 'previous'> & { previous?: ReadonlyMap<string, Entity> },
): Promise<FimScanResult> {
  const { pool, close } = lazyPool(opts);
  const xattrs = opts.xattrs ? XattrReader.open() : undefined;
  try {
    const files = await scanFileTree(rules, {
      root: opts.root,
      previous: opts.previous,
      names: nameLookup(opts.root),
      hashPool: pool,
      targets,
      signal: opts.signal,
      ...(xattrs ? { xattrs } : {}),
    });
    return { entities: files.entities, issues: files.issues, stats: { ...files.stats, entities: files.entities.length } };
  } finally {
    xattrs?.close();
    await close();
  }
}
