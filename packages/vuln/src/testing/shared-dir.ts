import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, found from this file so tests work in any clone location. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The shared conformance folder (read-only), beside the repository unless overridden. */
export const sharedDir = process.env.PALISADE_SHARED ?? path.resolve(repoRoot, '../shared');
