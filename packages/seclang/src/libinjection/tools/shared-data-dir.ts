// Locates ../shared/libinjection for tests and tools (never used by the engine at run time).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');

export function sharedDataDir(): string {
  return resolve(process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared'), 'libinjection');
}
