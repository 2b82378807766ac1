import { readFileSync } from 'node:fs';

let cache: Map<number, string> | undefined;

/** uid -> user name from /etc/passwd (read once; events name the user, not just the number). */
export function userName(uid: number): string | undefined {
  if (!cache) {
    cache = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && f[0]) cache.set(Number(f[2]), f[0]);
      }
    } catch {
      // No passwd (minimal containers): events carry the uid alone.
    }
  }
  return cache.get(uid);
}
