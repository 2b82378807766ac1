import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Change,
  type ContentDiff,
  contentDiff,
  diffPolicy,
  type Entity,
  type IntegrityRule,
  type IntegrityRuleSet,
  prepareContent,
  type SecretFingerprint,
} from '@palisade/integrity';
import type { IntegrityContentDiff } from '@palisade/protocol';
import { ContentStore, type ContentStoreStats } from '../../fim/index.ts';

/**
 * What an event's `details.contentDiff` holds: the engine's diff plus the hash of the bytes
 * diffed, in the protocol's shape (the manager and api-client read it). diffFor() builds it from
 * the engine's ContentDiff, so an engine diff that no longer fits the protocol fails to compile.
 */
export type EventContentDiff = IntegrityContentDiff;

/** Attributes whose change means the content changed (the others are metadata: no diff to show). */
const CONTENT_ATTRS = new Set(['sha256', 'sha512', 'size']);

/**
 * The per-agent key of the secret fingerprints, created once in the module's data directory
 * (mode 0600). It never leaves the host: the manager sees `[redacted#N]`, never a fingerprint.
 */
function fingerprintKey(dataDir: string): Buffer {
  const file = join(dataDir, 'redaction.key');
  try {
    const key = readFileSync(file);
    if (key.length >= 32) return key;
  } catch {
    // first start
  }
  const key = randomBytes(32);
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

type Read = { bytes: Buffer } | { skipped: 'too-large' | 'unreadable' };

/** Reads at most `max` + 1 bytes: a file that grew past the limit since the scan is still refused cheaply. */
function readBounded(path: string, max: number): Read {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return { skipped: 'unreadable' };
    if (st.size > max) return { skipped: 'too-large' };
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, n);
    if (n > max) return { skipped: 'too-large' };
    return { bytes: buf.subarray(0, n) };
  } catch {
    return { skipped: 'unreadable' };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Text diffs for `reportChanges` rules: keeps the last (redacted) content of each opted-in small
 * text file, and turns a change of such a file into the `contentDiff` of its event.
 */
export class ContentTracker {
  private readonly store: ContentStore;
  private readonly fingerprint: SecretFingerprint;

  constructor(
    dataDir: string,
    private readonly root: string,
    private readonly rules: IntegrityRuleSet,
    maxStoredBytes: number,
  ) {
    this.store = new ContentStore(join(dataDir, 'content-copies.sqlite'), maxStoredBytes);
    const key = fingerprintKey(dataDir);
    this.fingerprint = (s) => createHmac('sha256', key).update(s).digest('hex').slice(0, 16);
  }

  private onDisk(key: string): string {
    return this.root === '/' ? key : `${this.root.replace(/\/+$/, '')}${key}`;
  }

  /** The rule when `key` is a regular file whose text diff is wanted. */
  private ruleFor(e: Pick<Entity, 'kind' | 'key' | 'rule' | 'attrs'>): IntegrityRule | undefined {
    if (e.kind !== 'file' || e.attrs.type !== 'file') return undefined;
    const rule = this.rules.byId.get(e.rule);
    return rule && this.rules.reportsChanges(rule, e.key) ? rule : undefined;
  }

  /** Reads and prepares the file now on disk, and keeps it as the new copy (when it is text and fits). */
  private capture(key: string, rule: IntegrityRule): { text: string; sha256: string } | { skipped: ContentDiff & { status: 'skipped' } } {
    const policy = diffPolicy(rule);
    const read = readBounded(this.onDisk(key), policy.maxBytes);
    if ('skipped' in read) {
      this.store.delete(key);
      return { skipped: { status: 'skipped', reason: read.skipped } };
    }
    const sha256 = createHash('sha256').update(read.bytes).digest('hex');
    const prepared = prepareContent(read.bytes, policy, this.fingerprint);
    if ('skipped' in prepared) {
      this.store.delete(key);
      return { skipped: { status: 'skipped', reason: prepared.skipped } };
    }
    this.store.put(key, { sha256, redactionKey: policy.redactionKey, text: prepared.text });
    return { text: prepared.text, sha256 };
  }

  /**
   * The `contentDiff` of one change, or undefined when the change needs none (not opted in, not
   * a regular file, only metadata changed, a rename). Updates the stored copy as a side effect.
   * `after` is the entity as scanned (updated and created changes), `before` the baseline's.
   */
  diffFor(c: Change, after: Entity | undefined, before: Entity | undefined): EventContentDiff | undefined {
    if (c.kind !== 'file') return undefined;
    if (c.change === 'renamed') {
      if (c.from !== undefined) this.store.rename(c.from, c.key);
      return undefined;
    }
    if (c.change === 'deleted') {
      if (!before || !this.ruleFor(before)) {
        this.store.delete(c.key);
        return undefined;
      }
      const old = this.store.get(c.key);
      this.store.delete(c.key);
      if (!old) return { status: 'skipped', reason: 'no-previous-copy' };
      return contentDiff(old.text, undefined, c.key, old.redactionKey !== 'off');
    }
    if (!after) return undefined;
    const rule = this.ruleFor(after);
    if (!rule) {
      // A file that stopped being a regular file (or is no longer opted in) keeps no copy.
      this.store.delete(c.key);
      return undefined;
    }
    if (c.change === 'updated' && !c.attributes.some((a) => CONTENT_ATTRS.has(a.name)) && this.store.peek(c.key)) return undefined;
    const old = c.change === 'created' ? undefined : this.store.get(c.key);
    const now = this.capture(c.key, rule);
    if ('skipped' in now) return now.skipped;
    const policy = diffPolicy(rule);
    if (c.change === 'updated') {
      if (!old) return { status: 'skipped', reason: 'no-previous-copy', sha256: now.sha256 };
      if (old.redactionKey !== policy.redactionKey) return { status: 'skipped', reason: 'redaction-changed', sha256: now.sha256 };
    }
    return { ...contentDiff(old?.text, now.text, c.key, policy.redact), sha256: now.sha256 };
  }

  /**
   * Brings the copies in line with a baseline: copies of opted-in files that have none (or one of
   * other content or redaction settings) are made, copies of files no longer opted in are dropped.
   * `force` re-reads every opted-in file (a baseline rebuilt or accepted on command).
   */
  sync(entities: Iterable<Entity>, opts: { force?: boolean; only?: ReadonlySet<string> } = {}): void {
    const wanted = new Set<string>();
    for (const e of entities) {
      if (opts.only && !opts.only.has(e.key)) continue;
      const rule = this.ruleFor(e);
      if (!rule) continue;
      wanted.add(e.key);
      const policy = diffPolicy(rule);
      if (typeof e.attrs.size === 'number' && e.attrs.size > policy.maxBytes) {
        this.store.delete(e.key);
        continue;
      }
      const have = opts.force ? undefined : this.store.peek(e.key);
      const sha = typeof e.attrs.sha256 === 'string' ? e.attrs.sha256 : undefined;
      if (have && have.redactionKey === policy.redactionKey && (sha === undefined || have.sha256 === sha)) continue;
      this.capture(e.key, rule);
    }
    if (opts.only) {
      for (const key of opts.only) if (!wanted.has(key)) this.store.delete(key);
      return;
    }
    for (const path of this.store.paths()) if (!wanted.has(path)) this.store.delete(path);
  }

  stats(): ContentStoreStats {
    return this.store.stats();
  }

  close(): void {
    this.store.close();
  }
}
