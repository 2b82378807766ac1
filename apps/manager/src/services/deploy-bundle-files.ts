import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One agent bundle tarball the manager can serve (built by scripts/build-agent-bundle.ts). */
export interface DeployBundle {
  file: string;
  path: string;
  version: string;
  sha256: string;
  size: number;
}

export const BUNDLE_FILE = /^palisade-agent-(\d+)\.(\d+)\.(\d+)-linux-x64\.tar\.gz$/;

/**
 * Where the manager looks for agent bundles: PALISADE_AGENT_BUNDLE_DIR, else the repository's
 * dist/agent (what `npm run build:agent` writes).
 */
export function deployBundleDir(): string {
  return process.env.PALISADE_AGENT_BUNDLE_DIR ?? fileURLToPath(new URL('../../../../dist/agent', import.meta.url));
}

const hashes = new Map<string, { mtimeMs: number; size: number; sha256: string }>();

/** The SHA-256 of a bundle, recomputed only when the file changed (it is tens of MB at most). */
function sha256Of(path: string, mtimeMs: number, size: number): string {
  const cached = hashes.get(path);
  if (cached && cached.mtimeMs === mtimeMs && cached.size === size) return cached.sha256;
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashes.set(path, { mtimeMs, size, sha256 });
  return sha256;
}

/** The bundles in `dir`, newest version first; none when the folder does not exist. */
export function listDeployBundles(dir: string = deployBundleDir()): DeployBundle[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: (DeployBundle & { order: number[] })[] = [];
  for (const file of names) {
    const m = BUNDLE_FILE.exec(file);
    if (!m) continue;
    const path = join(dir, file);
    const st = statSync(path);
    found.push({
      file,
      path,
      version: `${m[1]}.${m[2]}.${m[3]}`,
      sha256: sha256Of(path, st.mtimeMs, st.size),
      size: st.size,
      order: [Number(m[1]), Number(m[2]), Number(m[3])],
    });
  }
  found.sort((a, b) => b.order[0]! - a.order[0]! || b.order[1]! - a.order[1]! || b.order[2]! - a.order[2]!);
  return found.map(({ order: _order, ...b }) => b);
}
