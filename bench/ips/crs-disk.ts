import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '@palisade/diagnostics';
import { loadRuleSet, RECOMMENDED_BASE_CONFIG, type RegexEngine, type RuleSet } from '@palisade/seclang';

/** Filesystem side of the IPS benchmarks and tests: the engine itself never touches disk. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared');
export const crsDir = join(sharedDir, 'crs');

export function readFileOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

export function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + 1);
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
}

/** CRS with the recommended base configuration; `before` goes ahead of crs-setup. */
export function loadCrsRuleSet(before = '', engine: RegexEngine = 'auto', dir = crsDir): RuleSet {
  const text = `${RECOMMENDED_BASE_CONFIG}${before}\nInclude ${join(dir, 'crs-setup.conf.example')}\nInclude ${join(dir, 'rules', '*.conf')}\n`;
  const r = loadRuleSet([{ name: join(repoRoot, 'crs.conf'), text }], { readFile: readFileOrUndefined, glob: globFiles, regexEngine: engine });
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

export function listFiles(dir: string, ext: RegExp, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(p, ext, out);
    else if (ext.test(name)) out.push(p);
  }
  return out;
}
