/**
 * Integrity monitoring benchmark: a baseline of the same read-only tree by Palisade
 * (`palisade fim baseline`) and by AIDE (`aide --init`, Debian's aide, a generated config hashing
 * SHA-256 with the same attributes), then a no-change re-scan (`palisade fim check`) and
 * `aide --check` for reference. Every tool runs as a child process on a warm page cache, timed
 * wall-clock and in CPU seconds (GNU time), so the ratio is tool against tool on the same input.
 *
 *   npm run bench:fim [-- --tree /usr/lib --runs 1]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const TREE = arg('tree', '/usr/lib').replace(/\/+$/, '');
const RUNS = Number(arg('runs', '1'));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(repoRoot, 'apps/cli/src/main.ts');
const work = mkdtempSync(join(tmpdir(), 'palisade-bench-fim-'));

interface Timed {
  wall: number;
  cpu: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command under GNU time; its last stderr line carries elapsed, user and system seconds. */
function timed(cmd: string, args: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', '@@time %e %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, cwd: repoRoot });
  const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no timing from ${cmd}: ${r.stderr.slice(-500)}`);
  return {
    wall: Number(m[1]),
    cpu: Number(m[2]) + Number(m[3]),
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr.replace(/@@time.*$/s, ''),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rules = join(work, 'rules.yaml');
writeFileSync(rules, `version: 1\nrules:\n  - id: tree\n    paths: [${JSON.stringify(TREE)}]\n    mask: ReadOnly\n    hash: [sha256]\n`);
const aideConf = (workers: number) => {
  const f = join(work, `aide-${workers}.conf`);
  // Same attributes as the Palisade rule: type, permissions, inode, links, owner, group, size,
  // mtime, ctime, link target, SHA-256; no ACL/xattr/SELinux (Palisade cannot read those yet).
  writeFileSync(
    f,
    `database_out=file:${work}/aide-${workers}.db\ndatabase_in=file:${work}/aide-${workers}.db\ngzip_dbout=no\nnum_workers=${workers}\nlog_level=warning\nreport_level=minimal\nreport_url=stdout\nPal = ftype+p+i+n+u+g+s+m+c+l+sha256\n${TREE} Pal\n`,
  );
  return f;
};
const node = process.execPath;
const palisade = (sub: string, db: string) => timed(node, ['--import', 'tsx', cli, 'fim', sub, '--rules', rules, '--db', db, '--json']);
/**
 * The CLI reports the time of its own work (scan, hashing, database), measured in-process; the
 * difference to the wall time is the start-up of the whole `palisade` command under tsx, which
 * loads every module of every area and is not part of integrity monitoring.
 */
const inProcess = (t: Timed, sub: string): Timed => {
  const j = JSON.parse(t.stdout) as { seconds?: number; cpuSeconds?: number; stats?: { seconds: number; cpuSeconds: number } };
  const s = sub === 'check' ? j.stats! : (j as { seconds: number; cpuSeconds: number });
  return { ...t, wall: s.seconds, cpu: s.cpuSeconds };
};

console.error(`tree ${TREE}; warming the page cache with one untimed Palisade baseline...`);
const warm = palisade('baseline', join(work, 'warm.db'));
if (warm.status !== 0) throw new Error(warm.stderr);
const stats = JSON.parse(warm.stdout) as { files: number; hashed: number; bytesHashed: number; issues: number };

const results: Record<string, { wall: number[]; cpu: number[] }> = {};
const record = (name: string, t: Timed) => {
  (results[name] ??= { wall: [], cpu: [] }).wall.push(t.wall);
  results[name].cpu.push(t.cpu);
  console.error(`${name.padEnd(36)} ${t.wall.toFixed(2)}s wall ${t.cpu.toFixed(2)}s cpu`);
};
const conf1 = aideConf(1);
const conf2 = aideConf(2);
for (let run = 0; run < RUNS; run++) {
  const a1 = timed('aide', ['--init', '-c', conf1]);
  if (a1.status !== 0) throw new Error(`aide --init failed (${a1.status}): ${a1.stderr}${a1.stdout}`);
  record('aide --init (1 worker)', a1);
  const a2 = timed('aide', ['--init', '-c', conf2]);
  if (a2.status !== 0) throw new Error(`aide --init failed (${a2.status}): ${a2.stderr}`);
  record('aide --init (2 workers)', a2);
  const db = join(work, `palisade-${run}.db`);
  const b = palisade('baseline', db);
  if (b.status !== 0) throw new Error(b.stderr);
  record('palisade fim baseline (CLI)', b);
  record('palisade fim baseline', inProcess(b, 'baseline'));
  const c = palisade('check', db);
  if (c.status !== 0) throw new Error(`palisade fim check found changes or failed (${c.status}): ${c.stdout.slice(0, 500)}`);
  record('palisade fim check, no change (CLI)', c);
  record('palisade fim check (no change)', inProcess(c, 'check'));
  const ac = timed('aide', ['--check', '-c', conf1]);
  // aide --check exits with a bit mask of change kinds; 0 means none.
  record('aide --check (1 worker)', ac);
}

const mib = stats.bytesHashed / 2 ** 20;
const row = (name: string) => {
  const w = median(results[name]!.wall);
  const c = median(results[name]!.cpu);
  return { name, wallSeconds: w, cpuSeconds: c, filesPerSecond: Math.round(stats.files / w), mibPerSecond: Number((mib / w).toFixed(1)) };
};
const rows = Object.keys(results).map(row);
const get = (n: string) => rows.find((r) => r.name === n)!;
const summary = {
  machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
  tree: TREE,
  files: stats.files,
  hashedFiles: stats.hashed,
  hashedMiB: Number(mib.toFixed(1)),
  runs: RUNS,
  rows,
  ratios: {
    baselineVsAide1Wall: Number((get('aide --init (1 worker)').wallSeconds / get('palisade fim baseline').wallSeconds).toFixed(2)),
    baselineVsAide2Wall: Number((get('aide --init (2 workers)').wallSeconds / get('palisade fim baseline').wallSeconds).toFixed(2)),
    baselineVsAide1Cpu: Number((get('aide --init (1 worker)').cpuSeconds / get('palisade fim baseline').cpuSeconds).toFixed(2)),
    baselineCliVsAide1Wall: Number((get('aide --init (1 worker)').wallSeconds / get('palisade fim baseline (CLI)').wallSeconds).toFixed(2)),
    rescanSpeedup: Number((get('palisade fim baseline').wallSeconds / get('palisade fim check (no change)').wallSeconds).toFixed(2)),
  },
  targets: { baselineVsAide: 1.5, rescanSpeedup: 5 },
};
console.log(JSON.stringify(summary, null, 2));
rmSync(work, { recursive: true, force: true });
