import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AdvisoryIndex } from '../advisory-index.ts';
import { loadOsvBytes, type OsvLoadOutcome } from '../osv-loader.ts';
import { sharedDir } from './shared-dir.ts';

export const osvSampleDir = path.join(sharedDir, 'osv-sample');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

/** Loads every advisory of the shared OSV sample (test helper: does file I/O). */
export function loadOsvSample(): { index: AdvisoryIndex; outcome: OsvLoadOutcome; files: string[] } {
  const files = walk(osvSampleDir);
  const outcome: OsvLoadOutcome = { records: [], diagnostics: [], skipped: 0 };
  const index = new AdvisoryIndex();
  for (const f of files) {
    const one = loadOsvBytes(readFileSync(f), path.relative(osvSampleDir, f));
    outcome.records.push(...one.records);
    outcome.diagnostics.push(...one.diagnostics);
    outcome.skipped += one.skipped;
    for (const r of one.records) outcome.diagnostics.push(...index.add(r, path.relative(osvSampleDir, f)));
  }
  return { index, outcome, files };
}
