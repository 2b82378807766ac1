import { lstat, opendir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import picomatch from 'picomatch';

export interface WalkOptions {
  /** Glob patterns (picomatch) matched against absolute paths; a matching directory is not entered. */
  excludePaths?: string[];
  /** Extensions without the dot, case-insensitive (`log`, `iso`). */
  excludeExtensions?: string[];
  /** Files larger than this are reported as skipped, not read. */
  maxFileSize?: number;
}

export type WalkEntry =
  | { path: string; size: number }
  | { path: string; size: number; skipped: 'excluded' | 'too-large' | 'not-regular' | 'unreadable'; detail?: string };

/**
 * Yields every regular file under the roots, depth first. Symbolic links are not followed:
 * a scan must not leave the trees it was given or loop through a link cycle.
 */
export async function* walkTree(roots: string[], opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const excluded = opts.excludePaths?.length ? picomatch(opts.excludePaths, { dot: true }) : () => false;
  const exts = new Set((opts.excludeExtensions ?? []).map((e) => e.replace(/^\./, '').toLowerCase()));
  const maxSize = opts.maxFileSize ?? Number.POSITIVE_INFINITY;

  async function* visit(path: string): AsyncGenerator<WalkEntry> {
    if (excluded(path)) {
      yield { path, size: 0, skipped: 'excluded' };
      return;
    }
    let st;
    try {
      st = await lstat(path);
    } catch (e) {
      yield { path, size: 0, skipped: 'unreadable', detail: (e as Error).message };
      return;
    }
    if (st.isDirectory()) {
      let dir;
      try {
        dir = await opendir(path);
      } catch (e) {
        yield { path, size: 0, skipped: 'unreadable', detail: (e as Error).message };
        return;
      }
      const names: string[] = [];
      for await (const d of dir) names.push(d.name);
      names.sort();
      for (const n of names) yield* visit(join(path, n));
      return;
    }
    if (!st.isFile()) {
      yield { path, size: 0, skipped: 'not-regular' };
      return;
    }
    if (exts.size > 0 && exts.has(extname(path).slice(1).toLowerCase())) {
      yield { path, size: st.size, skipped: 'excluded' };
      return;
    }
    if (st.size > maxSize) {
      yield { path, size: st.size, skipped: 'too-large' };
      return;
    }
    yield { path, size: st.size };
  }

  for (const r of roots) yield* visit(resolve(r));
}
