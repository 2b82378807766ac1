import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));
export const CONSOLE_APP_DIR = join(repoRoot, 'apps/console');

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) if (name !== 'node_modules') newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** The console's build is stale when any of its sources (or the API client it bundles) is newer than it. */
export function consoleBuildIsStale(appDir = CONSOLE_APP_DIR): boolean {
  const built = join(appDir, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(appDir, p));
  sources.push(join(appDir, '..', '..', 'packages', 'api-client', 'src'));
  return Math.max(...sources.map(newestMtime)) > statSync(built).mtimeMs;
}

/** Vite's command-line script, wherever npm put it (the console's own node_modules or the root's). */
function viteBin(appDir: string): string | undefined {
  return [join(appDir, 'node_modules/vite/bin/vite.js'), join(appDir, '../../node_modules/vite/bin/vite.js')].find(existsSync);
}

/**
 * Builds the web console when its build is missing or stale, so `npm start` always serves the
 * console of the checked-out sources. Returns what happened; a failed build does not stop the
 * manager (the API and CLI work without the console).
 */
export async function ensureConsoleBuilt(
  log: (line: string) => void,
  appDir = CONSOLE_APP_DIR,
): Promise<'fresh' | 'built' | 'unavailable' | 'failed'> {
  if (!existsSync(join(appDir, 'package.json'))) return 'unavailable';
  if (!consoleBuildIsStale(appDir)) return 'fresh';
  const bin = viteBin(appDir);
  if (!bin) {
    log('The web console cannot be built: vite is not installed (run npm install).');
    return 'unavailable';
  }
  log('Building the web console (first start, or its sources changed)…');
  // Built beside dist/ and swapped in, so a manager serving dist/ (or a second build started at
  // the same time) never sees a half-written build.
  const tmp = `dist.building-${process.pid}`;
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [bin, 'build', '--logLevel', 'warn', '--outDir', tmp, '--emptyOutDir'], {
      cwd: appDir,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', resolve);
    child.on('error', () => resolve(-1));
  });
  if (code === 0) {
    rmSync(join(appDir, 'dist'), { recursive: true, force: true });
    renameSync(join(appDir, tmp), join(appDir, 'dist'));
  } else rmSync(join(appDir, tmp), { recursive: true, force: true });
  if (code !== 0) {
    log(`The web console build failed (exit ${code}); the API and the CLI work without it.`);
    return 'failed';
  }
  return 'built';
}
