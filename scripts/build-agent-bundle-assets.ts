import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * What the source reaches through `new URL('<relative>', import.meta.url)`: after bundling,
 * `import.meta.url` is the bundle file, so each such path must be rewritten.
 * - a `.ts` file is a worker thread's entry: it becomes its own bundle under `workers/`;
 * - anything else (a rules folder, package.json) is copied under `share/<repo path>`.
 */
export interface AssetRefs {
  /** Absolute paths of `.ts` worker entries -> output name (without extension) under workers/. */
  workers: Map<string, string>;
  /** Absolute paths of files or folders to copy -> path relative to the bundle's `share/`. */
  assets: Map<string, string>;
}

const URL_REF = /new URL\((['"])(\.{1,2}\/[^'"]*)\1,\s*import\.meta\.url\)/g;
/**
 * Worker boot strings load tsx before the worker's TypeScript source (Node 20 does not pass
 * `--import tsx` to workers); the bundled worker is plain JavaScript and needs no loader.
 */
const TSX_REGISTER = "import('tsx/esm/api')";
const NO_LOADER = 'Promise.resolve({ register() {} })';

/**
 * An esbuild plugin that rewrites the `import.meta.url`-relative references of the repository's
 * own sources. `outFileDir` is the directory of the bundle being built, `libDir` the bundle's
 * `lib/` (workers go to `lib/workers/`), `shareDir` its `share/`.
 */
export function assetRelocationPlugin(repoRoot: string, libDir: string, shareDir: string, outFileDir: string, refs: AssetRefs): Plugin {
  return {
    name: 'palisade-asset-relocation',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        let text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url') && !text.includes(TSX_REGISTER)) return undefined;
        text = text.replace(URL_REF, (_m, q: string, rel: string) => {
          const target = resolve(dirname(args.path), rel);
          const fromRepo = relative(repoRoot, target);
          if (fromRepo.startsWith('..')) throw new Error(`${args.path}: ${rel} points outside the repository`);
          let bundled: string;
          if (target.endsWith('.ts')) {
            const name = fromRepo.split(sep).pop()!.replace(/\.ts$/, '');
            refs.workers.set(target, name);
            bundled = join(libDir, 'workers', `${name}.mjs`);
          } else {
            refs.assets.set(target, fromRepo);
            bundled = join(shareDir, fromRepo);
          }
          let out = relative(outFileDir, bundled).split(sep).join('/');
          if (!out.startsWith('.')) out = `./${out}`;
          return `new URL(${q}${out}${q}, import.meta.url)`;
        });
        text = text.split(TSX_REGISTER).join(NO_LOADER);
        return { contents: text, loader: 'ts' };
      });
    },
  };
}
