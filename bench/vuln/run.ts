/**
 * `npm run bench:vuln`: import 200,000 OSV advisories (generated all.zip archives of the real
 * shape, or the real osv.dev archives when PALISADE_OSV_ZIPS names a folder of *.zip), then
 * match a 3,000-package inventory. Reports import time, heap, and match time against the
 * targets (match < 1 s, import < 60 s). No established OSV matcher is installed on the build
 * machines, so there is no side-by-side ratio; see docs/benchmarks/vuln.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { AdvisoryIndex, compareDpkgVersions, type InventoryItem, loadOsvBytes, matchInventory } from '@palisade/vuln';
import { generateAllZips, generateInventory } from './generate-advisories.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

const total = Number(process.env.BENCH_ADVISORIES ?? 200_000);
const inventorySize = Number(process.env.BENCH_INVENTORY ?? 3000);
const realDir = process.env.PALISADE_OSV_ZIPS;

let zips: { ecosystem: string; zip: Uint8Array; count: number }[];
const g0 = performance.now();
if (realDir) {
  zips = readdirSync(realDir)
    .filter((f) => f.endsWith('.zip'))
    .map((f) => ({ ecosystem: f, zip: readFileSync(path.join(realDir, f)), count: 0 }));
} else {
  zips = generateAllZips(total);
}
const g1 = performance.now();
const zipBytes = zips.reduce((n, z) => n + z.zip.length, 0);

const before = heapMb();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const index = new AdvisoryIndex();
let records = 0;
let errors = 0;
for (const z of zips) {
  const loaded = loadOsvBytes(z.zip, z.ecosystem);
  records += loaded.records.length;
  errors += loaded.diagnostics.filter((d) => d.severity === 'error').length;
  for (const r of loaded.records) index.add(r);
  loaded.records.length = 0;
}
const t1 = performance.now();
const cpu = process.cpuUsage(cpu0);
const after = heapMb();

const items: InventoryItem[] = generateInventory(inventorySize);
// Warm-up once (JIT), then take the median of 5 runs.
matchInventory(index, items);
const runs: number[] = [];
let findings = 0;
for (let i = 0; i < 5; i++) {
  const m0 = performance.now();
  findings = matchInventory(index, items).length;
  runs.push(performance.now() - m0);
}
runs.sort((a, b) => a - b);
const match = runs[2]!;
const importS = (t1 - t0) / 1000;

/**
 * The one established tool on hand for the same work is dpkg itself: order the 14,442 real
 * Debian version pairs of the shared suite with compareDpkgVersions and a sample of them with
 * `dpkg --compare-versions` (one process per comparison, which is how scripts call it).
 */
function dpkgRatio() {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const file = path.join(process.env.PALISADE_SHARED ?? path.resolve(repoRoot, '../shared'), 'version-ordering/debian-versions-generated.txt');
  if (!existsSync(file) || spawnSync('dpkg', ['--version']).status !== 0) return undefined;
  const pairs = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' '))
    .map(([a, , b]) => [a!, b!] as const);
  const o0 = performance.now();
  for (let k = 0; k < 5; k++) for (const [a, b] of pairs) compareDpkgVersions(a, b);
  const oursUs = ((performance.now() - o0) * 1000) / (pairs.length * 5);
  const sample = pairs.slice(0, 300);
  const d0 = performance.now();
  spawnSync('sh', ['-c', 'while read a b; do dpkg --compare-versions "$a" lt "$b"; done'], { input: `${sample.map(([a, b]) => `${a} ${b}`).join('\n')}\n` });
  const dpkgUs = ((performance.now() - d0) * 1000) / sample.length;
  return { pairs: pairs.length, oursMicrosPerCompare: +oursUs.toFixed(2), dpkgMicrosPerCompare: Math.round(dpkgUs), ratio: Math.round(dpkgUs / oursUs) };
}

const result = {
  machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  source: realDir ? `real archives in ${realDir}` : `generated (${total} advisories, seed 42)`,
  zipMB: +(zipBytes / 2 ** 20).toFixed(1),
  generateS: +((g1 - g0) / 1000).toFixed(1),
  records,
  loadErrors: errors,
  indexedAdvisories: index.size,
  indexedEntries: index.stats.entries,
  importS: +importS.toFixed(1),
  // Wall time suffers when other jobs share the cores; CPU time (user+system) does not.
  importCpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1),
  importPerSecond: Math.round(records / importS),
  heapMB: Math.round(after - before),
  inventory: items.length,
  findings,
  matchMs: +match.toFixed(1),
  dpkgOrdering: dpkgRatio(),
  targets: { matchUnder1s: match < 1000, importUnder60s: importS < 60 },
};
console.log(JSON.stringify(result, null, 2));
if (!result.targets.matchUnder1s || !result.targets.importUnder60s) process.exitCode = 1;
