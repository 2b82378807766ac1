import { type FSWatcher, lstatSync, readdirSync, watch } from 'node:fs';
import type { IntegrityRuleSet } from '@palisade/integrity';

/** A path to rescan: recursive for what changed, not recursive for a directory whose entries changed. */
export interface RescanTarget {
  path: string;
  recursive: boolean;
}

export interface RealtimeWatcherOptions {
  rules: IntegrityRuleSet;
  /** Prefix on disk for the rule paths; `/` for the live system. */
  root: string;
  debounceMs: number;
  maxDelayMs: number;
  maxWatches: number;
  onRescan: (targets: RescanTarget[]) => void;
  onWarning: (message: string, details: Record<string, unknown>) => void;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || (dir === '/' ? true : path.startsWith(`${dir}/`));
}

/**
 * Real-time watching of the roots of `realtime: true` rules with one `fs.watch` (inotify watch)
 * per directory: Node 20 has no recursive watching on Linux and @parcel/watcher is not
 * installed. A rule root that is a file is watched through its parent directory, filtered to its
 * name, so an editor replacing the file (write a copy, rename over) is still seen.
 *
 * Events are only hints: a burst is collected into rescan targets and handed over once the paths
 * are quiet for `debounceMs` (at the latest after `maxDelayMs`); the scanner then looks at what is
 * really on disk. New directories are watched before their rescan, so files written into them
 * right after creation are not missed. inotify drops events when its queue overflows and Node
 * does not report that, which is why the module keeps periodic full scans as a safety net.
 */
export class RealtimeWatcher {
  private readonly watchers = new Map<string, { w: FSWatcher; ino: number }>();
  /** For a watched parent of a file root: the names inside it that matter; absent = every name. */
  private readonly onlyNames = new Map<string, Set<string>>();
  private readonly pending = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  private readonly prefix: string;
  private readonly roots: string[];
  private closed = false;
  readonly counters = { events: 0, flushes: 0, limitReached: 0, watchErrors: 0 };

  constructor(private readonly opts: RealtimeWatcherOptions) {
    this.prefix = opts.root === '/' ? '' : opts.root.replace(/\/+$/, '');
    const roots = new Set<string>();
    for (const r of opts.rules.rules) if (r.type === 'files' && r.realtime) for (const p of r.paths) roots.add(p);
    this.roots = [...roots].sort();
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  /** The roots this watcher covers (for status and docs). */
  get realtimeRoots(): readonly string[] {
    return this.roots;
  }

  private disk(path: string): string {
    return this.prefix + path || '/';
  }

  private underRealtimeRoot(path: string): boolean {
    return this.roots.some((r) => isUnder(path, r));
  }

  start(): void {
    for (const root of this.roots) this.watchRoot(root);
  }

  private watchRoot(root: string): void {
    let isDir = false;
    try {
      isDir = (lstatSync(this.disk(root)).mode & S_IFMT) === S_IFDIR;
    } catch {
      // Missing now: watching the parent reports its creation.
    }
    if (isDir) {
      this.watchTree(root);
      return;
    }
    const parent = parentOf(root);
    // A parent already watched as part of a tree sees every name anyway.
    if (this.watchers.has(parent) && !this.onlyNames.has(parent)) return;
    const names = this.onlyNames.get(parent) ?? new Set<string>();
    names.add(root.slice(parent === '/' ? 1 : parent.length + 1));
    this.onlyNames.set(parent, names);
    this.addWatch(parent);
  }

  /** Watches `dir` and every directory below it that the rules would walk. */
  private watchTree(dir: string): void {
    const stack = [dir];
    while (stack.length) {
      const d = stack.pop()!;
      // A directory watched only for a file root's sake now needs every name.
      this.onlyNames.delete(d);
      if (!this.addWatch(d)) return;
      if (!this.opts.rules.shouldDescend(d)) continue;
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(this.disk(d), { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory()) stack.push(join(d, e.name));
    }
  }

  /** False once the watch limit is reached (the rest is left to the periodic scans). */
  private addWatch(dir: string): boolean {
    if (this.closed) return false;
    if (this.watchers.has(dir)) return true;
    if (this.watchers.size >= this.opts.maxWatches) {
      if (this.counters.limitReached++ === 0)
        this.opts.onWarning('integrity: real-time watch limit reached; the rest is covered by scheduled scans only', {
          maxWatches: this.opts.maxWatches,
          dir,
        });
      return false;
    }
    let w: FSWatcher;
    let ino: number;
    try {
      ino = lstatSync(this.disk(dir)).ino;
      w = watch(this.disk(dir), { persistent: false }, (_event, name) => this.onEvent(dir, name));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.counters.watchErrors++;
      if (code === 'ENOSPC')
        this.opts.onWarning('integrity: the kernel inotify watch limit (fs.inotify.max_user_watches) is exhausted', { dir });
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') this.opts.onWarning('integrity: cannot watch a directory', { dir, code });
      return code !== 'ENOSPC';
    }
    // The directory itself went away (deleted, unmounted): forget the watch; the rescan of the
    // parent's event reports the deletion.
    w.on('error', () => this.unwatch(dir));
    this.watchers.set(dir, { w, ino });
    return true;
  }

  private unwatch(dir: string): void {
    for (const [d, { w }] of this.watchers) {
      if (!isUnder(d, dir)) continue;
      w.close();
      this.watchers.delete(d);
    }
  }

  private onEvent(dir: string, name: string | Buffer | null): void {
    if (this.closed) return;
    this.counters.events++;
    if (name === null || name === undefined) {
      // No name: something changed in the directory, which one is unknown.
      this.add(dir, true);
    } else {
      const n = String(name);
      const only = this.onlyNames.get(dir);
      if (only && !only.has(n)) return;
      this.add(join(dir, n), true);
      // The directory's own mtime/ctime changed when an entry was added, removed or renamed.
      if (this.underRealtimeRoot(dir)) this.add(dir, false);
    }
    const now = Date.now();
    if (this.timer === undefined) this.firstPendingAt = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.opts.debounceMs, this.firstPendingAt + this.opts.maxDelayMs - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private add(path: string, recursive: boolean): void {
    this.pending.set(path, (this.pending.get(path) ?? false) || recursive);
  }

  /** Hands the pending targets over, after watching directories that appeared and dropping watches of ones that went away. */
  private flush(): void {
    this.timer = undefined;
    if (this.closed || this.pending.size === 0) return;
    const targets: RescanTarget[] = [...this.pending].map(([path, recursive]) => ({ path, recursive }));
    this.pending.clear();
    this.counters.flushes++;
    for (const t of targets) {
      if (!t.recursive) continue;
      let isDir = false;
      try {
        isDir = (lstatSync(this.disk(t.path)).mode & S_IFMT) === S_IFDIR;
      } catch {
        // Gone.
      }
      if (isDir && this.underRealtimeRoot(t.path) && this.opts.rules.shouldDescend(parentOf(t.path))) this.watchTree(t.path);
      else if (!isDir) this.unwatch(t.path);
    }
    this.opts.onRescan(targets);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    for (const { w } of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /**
   * Re-checks every watch against the disk (after a full scan): a directory deleted or replaced
   * while its events were lost (queue overflow, a root with no watched parent) is watched again.
   */
  refresh(): void {
    if (this.closed) return;
    for (const [d, { w, ino }] of [...this.watchers]) {
      let now: number | undefined;
      try {
        now = lstatSync(this.disk(d)).ino;
      } catch {
        // Gone.
      }
      if (now === ino) continue;
      w.close();
      this.watchers.delete(d);
    }
    for (const root of this.roots) this.watchRoot(root);
  }
}
