import { readFileSync } from 'node:fs';
import { type Entity, entityId, idNames, type IntegrityRuleSet } from '@palisade/integrity';
import { scanFileTree } from './file-tree-scanner.ts';
import { HashPool } from './hash-pool.ts';
import type { ScanIssue } from './scan-issue.ts';
import { collectSystemEntities } from './system-collector.ts';

export interface FimScanOptions {
  root: string;
  previous?: readonly Entity[];
  hashWorkers?: number;
  onWalk?: (files: number, path: string) => void;
  onHash?: (filesDone: number, bytesDone: number, filesTotal: number, bytesTotal: number) => void;
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

/** One full scan: files (with owner names from the scanned tree's own passwd/group) and system entities. */
export async function runFimScan(rules: IntegrityRuleSet, opts: FimScanOptions): Promise<FimScanResult> {
  const prefix = opts.root === '/' ? '' : opts.root.replace(/\/+$/, '');
  const { users, groups } = idNames(readOptional(`${prefix}/etc/passwd`), readOptional(`${prefix}/etc/group`));
  const previous = new Map<string, Entity>();
  for (const e of opts.previous ?? []) if (e.kind === 'file') previous.set(entityId(e), e);
  // Workers start only when something needs hashing: a quiet re-scan should not pay for them.
  let pool: HashPool | undefined;
  const lazyPool = {
    hashAll: (jobs: Parameters<HashPool['hashAll']>[0], onProgress?: Parameters<HashPool['hashAll']>[1]) => {
      if (jobs.length === 0) return Promise.resolve([]);
      pool ??= new HashPool(opts.hashWorkers);
      return pool.hashAll(jobs, onProgress);
    },
  } as HashPool;
  try {
    const files = await scanFileTree(rules, {
      root: opts.root,
      previous,
      names: { user: (uid) => users.get(uid), group: (gid) => groups.get(gid) },
      hashPool: lazyPool,
      onWalk: opts.onWalk,
      onHash: opts.onHash,
    });
    const system = collectSystemEntities(rules, opts.root);
    const entities = [...files.entities, ...system.entities];
    return { entities, issues: [...files.issues, ...system.issues], stats: { ...files.stats, entities: entities.length } };
  } finally {
    await pool?.close();
  }
}
