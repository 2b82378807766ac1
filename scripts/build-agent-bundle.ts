// Builds the self-contained agent bundle (docs/deploy/agent-bundle.md):
//   node --import tsx scripts/build-agent-bundle.ts [--out dist/agent] [--deb] [--rpm]
// -> <out>/palisade-agent-<version>-linux-x64.tar.gz, its .sha256, with --deb the .deb (dpkg-deb),
// with --rpm the .rpm (rpmbuild).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type AssetRefs, assetRelocationPlugin } from './build-agent-bundle-assets.ts';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const kitDir = join(repoRoot, 'deploy', 'agent-bundle');

/** The native addons the agent loads, kept out of the JS bundle (they cannot be inlined). */
const NATIVE_PACKAGES: Record<string, string[]> = {
  // better-sqlite3 finds its addon through `bindings` (which needs file-uri-to-path)
  'better-sqlite3': ['package.json', 'lib', 'build/Release/better_sqlite3.node', 'LICENSE'],
  bindings: ['package.json', 'bindings.js', 'LICENSE.md'],
  'file-uri-to-path': ['package.json', 'index.js', 'LICENSE'],
  // the SecLang engine sends backtracking-prone patterns to re2 (packages/seclang/src/regex.ts)
  re2: ['package.json', 're2.js', 'lib', 'build/Release/re2.node', 'LICENSE'],
};

export interface AgentBundle {
  version: string;
  /** The unpacked bundle folder (what the tarball holds under its top folder). */
  dir: string;
  tarball: string;
  sha256File: string;
  sha256: string;
  /** Files the sources reference that did not exist at build time (e.g. a native helper without a C compiler). */
  missingAssets: string[];
}

export interface BuildAgentBundleOptions {
  outDir: string;
  /** Default: the root package.json version. */
  version?: string;
  /** Minify the JS (default true; false keeps stack traces readable). */
  minify?: boolean;
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function bundleJs(
  entry: string,
  outFile: string,
  libDir: string,
  shareDir: string,
  refs: AssetRefs,
  version: string,
  minify: boolean,
) {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    format: 'esm',
    minify,
    sourcemap: false,
    legalComments: 'none',
    external: Object.keys(NATIVE_PACKAGES).filter((p) => p === 'better-sqlite3' || p === 're2'),
    // CommonJS dependencies (commander, pino) call require() for Node's own modules
    banner: {
      js: "import { createRequire as __palisadeCreateRequire } from 'node:module'; const require = __palisadeCreateRequire(import.meta.url);",
    },
    define: { 'process.env.PALISADE_BUNDLE_VERSION': JSON.stringify(version) },
    plugins: [assetRelocationPlugin(repoRoot, libDir, shareDir, dirname(outFile), refs)],
    logLevel: 'warning',
  });
}

function copyNativePackages(nodeModules: string): void {
  for (const [pkg, files] of Object.entries(NATIVE_PACKAGES)) {
    const src = join(repoRoot, 'node_modules', pkg);
    for (const f of files) {
      if (!existsSync(join(src, f))) {
        if (f.startsWith('LICENSE')) continue;
        throw new Error(`${pkg}: ${f} is missing (npm install builds the native addons)`);
      }
      mkdirSync(dirname(join(nodeModules, pkg, f)), { recursive: true });
      cpSync(join(src, f), join(nodeModules, pkg, f), { recursive: true });
    }
  }
  // The addons carry debug symbols (re2.node is ~20 MB with them, ~2 MB without).
  for (const addon of ['better-sqlite3/build/Release/better_sqlite3.node', 're2/build/Release/re2.node']) {
    try {
      execFileSync('strip', ['--strip-unneeded', join(nodeModules, addon)], { stdio: 'ignore' });
    } catch {
      // no binutils: the unstripped addon works the same
    }
  }
}

/** Builds the bundle folder and its tarball + checksum under `outDir`. */
export async function buildAgentBundle(opts: BuildAgentBundleOptions): Promise<AgentBundle> {
  const version = opts.version ?? (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const name = `palisade-agent-${version}-linux-x64`;
  const dir = join(opts.outDir, name);
  rmSync(dir, { recursive: true, force: true });
  const libDir = join(dir, 'lib');
  const shareDir = join(dir, 'share');
  mkdirSync(libDir, { recursive: true });

  // The agent's native helpers (application control's fanotify-gate) are built from C source
  // by the project's own script; it never fails, a missing helper is reported below.
  const buildNative = join(repoRoot, 'scripts', 'build-native.mjs');
  if (existsSync(buildNative)) execFileSync(process.execPath, [buildNative], { stdio: 'ignore' });

  const refs: AssetRefs = { workers: new Map(), assets: new Map() };
  const minify = opts.minify ?? true;
  await bundleJs(
    join(repoRoot, 'scripts', 'build-agent-bundle-entry.ts'),
    join(libDir, 'palisade.mjs'),
    libDir,
    shareDir,
    refs,
    version,
    minify,
  );
  // Workers may reference further workers or assets: build until nothing new appears.
  const built = new Set<string>();
  for (let pending = [...refs.workers]; pending.length; pending = [...refs.workers].filter(([p]) => !built.has(p))) {
    for (const [src, out] of pending) {
      built.add(src);
      await bundleJs(src, join(libDir, 'workers', `${out}.mjs`), libDir, shareDir, refs, version, minify);
    }
  }
  const missingAssets: string[] = [];
  for (const [src, rel] of refs.assets) {
    // a helper that could not be built here: its module reports itself unsupported on the host
    if (!existsSync(src)) {
      missingAssets.push(rel);
      continue;
    }
    mkdirSync(dirname(join(shareDir, rel)), { recursive: true });
    cpSync(src, join(shareDir, rel), { recursive: true, filter: (f) => !f.endsWith('.test.ts') });
  }
  copyNativePackages(join(libDir, 'node_modules'));
  // An ESM bundle next to a node_modules of CommonJS packages: say so, whatever is above it.
  writeFileSync(join(libDir, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);

  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(kitDir, 'palisade'), join(dir, 'bin', 'palisade'));
  chmodSync(join(dir, 'bin', 'palisade'), 0o755);
  mkdirSync(join(dir, 'systemd'));
  copyFileSync(join(repoRoot, 'deploy', 'systemd', 'palisade-agent.service'), join(dir, 'systemd', 'palisade-agent.service'));
  for (const f of ['install.sh', 'uninstall.sh']) {
    copyFileSync(join(kitDir, f), join(dir, f));
    chmodSync(join(dir, f), 0o755);
  }
  writeFileSync(join(dir, 'VERSION'), `${version}\n`);

  const tarball = join(opts.outDir, `${name}.tar.gz`);
  // Fixed owner and mtime-independent order so the same inputs give a comparable archive.
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', opts.outDir, name]);
  const sha256 = sha256Of(tarball);
  const sha256File = `${tarball}.sha256`;
  writeFileSync(sha256File, `${sha256}  ${basename(tarball)}\n`);
  return { version, dir, tarball, sha256File, sha256, missingAssets };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = resolve(outIdx >= 0 ? args[outIdx + 1]! : 'dist/agent');
  mkdirSync(outDir, { recursive: true });
  const bundle = await buildAgentBundle({ outDir });
  process.stdout.write(`${relative(process.cwd(), bundle.tarball)}\n${relative(process.cwd(), bundle.sha256File)}  ${bundle.sha256}\n`);
  for (const m of bundle.missingAssets) process.stderr.write(`warning: ${m} does not exist and is not in the bundle\n`);
  if (args.includes('--deb')) {
    const { buildAgentDeb } = await import('./build-agent-bundle-deb.ts');
    const deb = buildAgentDeb(bundle, outDir);
    process.stdout.write(`${relative(process.cwd(), deb)}\n`);
  }
  if (args.includes('--rpm')) {
    const { buildAgentRpm } = await import('./build-agent-bundle-rpm.ts');
    const rpm = buildAgentRpm(bundle, outDir);
    process.stdout.write(`${relative(process.cwd(), rpm)}\n`);
  }
}
