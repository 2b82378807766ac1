import { lstatSync, readdirSync, readlinkSync, type Stats, statSync } from 'node:fs';
import {
  type Entity,
  type FileStat,
  fileEntity,
  fileTypeOf,
  type HashAlgorithm,
  type IntegrityRuleSet,
  maskIncludes,
  maskNeedsHash,
  type NameLookup,
} from '@palisade/integrity';
import type { HashPool } from './hash-pool.ts';
import type { ScanThrottle } from './scan-throttle.ts';
import type { XattrReader } from './xattr-reader.ts';
import { issueFromError, type ScanIssue } from './scan-issue.ts';

export interface FileScanOptions {
  /** Prefix on disk for the rule paths (a mounted image, a test tree); `/` for the live system. */
  root: string;
  /** Entities of the previous baseline: unchanged stat data lets the scanner reuse their hashes. */
  previous?: ReadonlyMap<string, Entity>;
  names?: NameLookup;
  hashPool: HashPool;
  onWalk?: (files: number, path: string) => void;
  onHash?: (filesDone: number, bytesDone: number, filesTotal: number, bytesTotal: number) => void;
  /**
   * Scan only these paths instead of the rule roots (the agent's real-time watcher rescans what
   * changed): a recursive target is walked like a root, a non-recursive one is recorded alone
   * (a directory whose entries changed). A target that does not exist is simply absent from the
   * result (deleted), not an issue.
   */
  targets?: readonly { path: string; recursive: boolean }[];
  /** Ends the walk early (the agent stopping): the scan rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Paces the walk (entries per second) and the hashing (bytes per second). */
  throttle?: ScanThrottle;
  /** Reads xattrs, ACLs and capabilities for the rules whose mask compares them; without it they are left out. */
  xattrs?: XattrReader;
}

export interface FileScanResult {
  entities: Entity[];
  issues: ScanIssue[];
  stats: { files: number; hashed: number; reused: number; bytesHashed: number };
}

function toStat(s: Stats): FileStat {
  return {
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    ino: s.ino,
    dev: s.dev,
    nlink: s.nlink,
    mtimeMs: s.mtimeMs,
    ctimeMs: s.ctimeMs,
  };
}

const NO_HASHES: HashAlgorithm[] = [];

function hasHashes(p: Entity['attrs'], algos: readonly HashAlgorithm[]): boolean {
  for (const a of algos) if (typeof p[a] !== 'string') return false;
  return true;
}

function unchanged(
  prev: Entity,
  st: Stats,
  target: string | undefined,
  algos: readonly HashAlgorithm[],
  names: NameLookup | undefined,
): boolean {
  const p = prev.attrs;
  return (
    p.ctime === st.ctimeMs &&
    p.mtime === st.mtimeMs &&
    p.inode === st.ino &&
    p.dev === st.dev &&
    p.size === st.size &&
    p.mode === (st.mode & 0o7777) &&
    p.uid === st.uid &&
    p.gid === st.gid &&
    p.nlink === st.nlink &&
    p.type === fileTypeOf(st.mode) &&
    p.target === target &&
    p.user === names?.user(st.uid) &&
    p.group === names?.group(st.gid) &&
    hasHashes(p, algos)
  );
}

/** Whether a rule's mask compares anything stored in extended attributes. */
function wantsXattrs(mask: Parameters<typeof maskIncludes>[0]): boolean {
  return maskIncludes(mask, 'xattrs') || maskIncludes(mask, 'acl') || maskIncludes(mask, 'caps');
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Walks the roots of the files rules, stats every entry and hashes what the masks ask for.
 * Listing and stat are synchronous (far cheaper than one promise per file) but yield to the event
 * loop every few thousand entries; hashing runs in the worker pool. Nothing met on the way
 * (permissions, files vanishing) aborts the scan: it becomes a ScanIssue.
 */
export async function scanFileTree(rules: IntegrityRuleSet, opts: FileScanOptions): Promise<FileScanResult> {
  const prefix = opts.root === '/' ? '' : opts.root.replace(/\/+$/, '');
  const issues: ScanIssue[] = [];
  const entities: Entity[] = [];
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const pending: { index: number; algos: HashAlgorithm[]; size: number; path: string; target?: string }[] = [];
  let reused = 0;
  let sinceYield = 0;
  const deferred: string[] = [];
  let draining = false;

  const xattrPending: number[] = [];
  const record = (path: string, st: Stats, target: string | undefined): void => {
    const rule = rules.ruleForPath(path, st.mode, (st.mode & S_IFMT) === S_IFDIR);
    if (!rule) return;
    const algos = (st.mode & S_IFMT) === S_IFREG && maskNeedsHash(rule.mask) ? rule.hash : NO_HASHES;
    const xattrs = opts.xattrs !== undefined && wantsXattrs(rule.mask);
    // Unchanged stat data (ctime included, which user space cannot set back) means an unchanged
    // entity: the baseline's object is reused as is, which makes a quiet re-scan little more than
    // the walk itself. A rule asking for full hashing opts out.
    const prev = opts.previous?.get(`file:${path}`);
    // Setting an xattr changes the ctime, so a baseline entity with xattrs read is reusable as is.
    if (
      prev !== undefined &&
      prev.rule === rule.id &&
      !(rule.fullHash && algos.length) &&
      (!xattrs || prev.attrs.xattrs !== undefined) &&
      unchanged(prev, st, target, algos, opts.names)
    ) {
      entities.push(prev);
      if (algos.length) reused++;
      return;
    }
    const fstat = toStat(st);
    const extras = target !== undefined ? { target } : {};
    const entity = fileEntity(path, fstat, rule.id, extras, opts.names);
    if (xattrs) {
      const p = prev?.attrs;
      if (p?.xattrs !== undefined && p.ctime === fstat.ctimeMs && p.inode === fstat.ino && p.dev === fstat.dev) {
        entity.attrs.xattrs = p.xattrs;
        if (p.acl !== undefined) entity.attrs.acl = p.acl;
        if (p.caps !== undefined) entity.attrs.caps = p.caps;
      } else xattrPending.push(entities.length);
    }
    if (algos.length) {
      const p = prev?.attrs;
      if (
        !rule.fullHash &&
        p &&
        p.type === 'file' &&
        p.size === fstat.size &&
        p.mtime === fstat.mtimeMs &&
        p.ctime === fstat.ctimeMs &&
        p.inode === fstat.ino &&
        p.dev === fstat.dev &&
        hasHashes(p, algos)
      ) {
        // Only owner names changed (e.g. a user renamed): the content is the baseline's.
        for (const a of algos) entity.attrs[a] = p[a]!;
        reused++;
      } else {
        pending.push({ index: entities.length, algos, size: fstat.size, path: prefix + path });
      }
    }
    entities.push(entity);
  };

  const visit = async (path: string, recurse = true): Promise<void> => {
    if (seen.has(path)) return;
    seen.add(path);
    const disk = prefix + path || '/';
    let st: Stats;
    try {
      st = lstatSync(disk);
    } catch (err) {
      const issue = issueFromError(path, err, 'stat');
      if (issue.kind === 'vanished' && targets.has(path)) return;
      // A rule root that does not exist on this host (no sudo installed) did not vanish mid-scan.
      if (issue.kind === 'vanished' && roots.has(path)) issue.kind = 'missing-source';
      issues.push(issue);
      return;
    }
    let target: string | undefined;
    let viaLink = false;
    if ((st.mode & S_IFMT) === S_IFLNK) {
      try {
        target = readlinkSync(disk);
      } catch (err) {
        issues.push(issueFromError(path, err, 'readlink'));
      }
      if (rules.followLinks(path)) {
        viaLink = true;
        try {
          st = statSync(disk);
        } catch (err) {
          // A dangling link is still worth recording as the link itself.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') issues.push(issueFromError(path, err, 'stat link target'));
        }
      }
    }
    // Linked directories are recorded and entered after the whole walk, so a directory reachable
    // both by its real path and through a link is walked under its real path.
    if (viaLink && !draining && (st.mode & S_IFMT) === S_IFDIR && rules.shouldDescend(path)) {
      deferred.push(path);
      seen.delete(path);
      return;
    }
    record(path, st, target);
    opts.onWalk?.(seen.size, path);
    const wait = opts.throttle?.beforeFiles(1) ?? 0;
    // Short waits add up in the throttle and are slept off in one go.
    if (wait >= 20) {
      await new Promise<void>((r) => setTimeout(r, wait));
      opts.signal?.throwIfAborted();
    }
    if (++sinceYield >= 2000) {
      sinceYield = 0;
      await new Promise<void>((r) => setImmediate(r));
      opts.signal?.throwIfAborted();
    }
    if (!recurse || (st.mode & S_IFMT) !== S_IFDIR || !rules.shouldDescend(path)) return;
    // Following links can loop back onto an ancestor; a directory is entered once per device+inode.
    const dirId = `${st.dev}:${st.ino}`;
    if (visitedDirs.has(dirId)) return;
    visitedDirs.add(dirId);
    let names: string[];
    try {
      names = readdirSync(disk);
    } catch (err) {
      issues.push(issueFromError(path, err, 'list directory'));
      return;
    }
    names.sort();
    const base = path === '/' ? '' : path;
    for (const name of names) await visit(`${base}/${name}`);
  };

  const targets = new Map((opts.targets ?? []).map((t) => [t.path, t.recursive]));
  const roots = new Set(opts.targets ? [] : rules.fileRoots());
  if (opts.targets) for (const [path, recursive] of [...targets].sort((a, b) => (a[0] < b[0] ? -1 : 1))) await visit(path, recursive);
  else for (const root of [...roots].sort()) await visit(root);
  draining = true;
  for (const path of deferred) await visit(path);

  // Extended attributes of new and changed entries, in batches through the reader's helper process.
  for (let i = 0; i < xattrPending.length && opts.xattrs; i += 1024) {
    opts.signal?.throwIfAborted();
    const batch = xattrPending.slice(i, i + 1024);
    const found = await opts.xattrs.read(batch.map((k) => prefix + entities[k]!.key || '/'));
    found.forEach((x, k) => {
      // Unreadable (vanished, permission): left out, which compares as "not known", not as a change.
      if (!x) return;
      const attrs = entities[batch[k]!]!.attrs;
      attrs.xattrs = x.xattrs;
      attrs.acl = x.acl;
      attrs.caps = x.caps;
    });
  }
  opts.signal?.throwIfAborted();
  const total = pending.reduce((n, p) => n + p.size, 0);
  const results = await opts.hashPool.hashAll(pending, (files, bytes) => opts.onHash?.(files, bytes, pending.length, total), opts.throttle);
  const dropped = new Set<number>();
  results.forEach((r, k) => {
    const job = pending[k]!;
    const entity = entities[job.index]!;
    if ('hashes' in r) Object.assign(entity.attrs, r.hashes);
    else if (r.error === 'ENOENT' || r.error === 'ELOOP' || r.error === 'ENOTREG') {
      // Gone or replaced (by a link or a FIFO) after the stat: the next scan sees what is there now.
      dropped.add(job.index);
      issues.push({ path: entity.key, kind: 'vanished', code: r.error, message: 'changed or vanished while scanning' });
    } else {
      issues.push({
        path: entity.key,
        kind: r.error === 'EACCES' || r.error === 'EPERM' ? 'unreadable' : 'error',
        code: r.error,
        message: 'could not read content for hashing',
      });
    }
  });
  return {
    entities: dropped.size ? entities.filter((_, i) => !dropped.has(i)) : entities,
    issues,
    stats: { files: entities.length, hashed: pending.length, reused, bytesHashed: total },
  };
}
