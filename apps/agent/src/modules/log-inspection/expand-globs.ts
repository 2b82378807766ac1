import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';

/** Directories walked below a glob's base at most: `**` on `/` must not walk the whole disk. */
const MAX_DEPTH = 8;

/**
 * The regular files an absolute path or glob (picomatch: `*`, `?`, `[..]`, `{a,b}`, `**`) names
 * now, sorted. A plain path is returned when it is a file; a missing one yields nothing (it may
 * appear later). Symlinks are followed, like a log shipper reading `/var/log/x -> …`.
 */
export function expandGlob(pattern: string): string[] {
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) return isFile(pattern) ? [pattern] : [];
  const match = picomatch(pattern, { dot: true });
  const globstar = scan.glob.includes('**');
  const depthLimit = globstar ? MAX_DEPTH : scan.glob.split('/').length;
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isFile()) {
        if (match(p)) out.push(p);
      } else if (st.isDirectory() && depth + 1 < depthLimit) walk(p, depth + 1);
    }
  };
  walk(scan.base || '/', 0);
  return out.sort();
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
