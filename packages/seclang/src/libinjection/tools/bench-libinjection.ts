// Micro-benchmark: inputs per second of detectSqli/detectXss over libinjection's sample
// corpora, side by side with the C libinjection that libmodsecurity3 exports (compiled with
// gcc into a temp dir when gcc and the library are present).
//   node --import tsx packages/seclang/src/libinjection/tools/bench-libinjection.ts [rounds]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectSqli } from '../detect-sqli.ts';
import { detectXss } from '../detect-xss.ts';
import { urlDecode } from '../url-decode.ts';
import { sharedDataDir } from './shared-data-dir.ts';

const rounds = Number(process.argv[2] ?? 10);
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(sharedDataDir(), 'samples');
const inputs: string[] = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith('.txt')).sort()) {
  for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
    const t = line.replace(/[ \t\r\n]+$/, '');
    if (t !== '' && !t.startsWith('#')) inputs.push(urlDecode(t));
  }
}

function time(fn: (s: string) => boolean): { rate: number; hits: number } {
  for (const s of inputs) fn(s); // warm-up
  let hits = 0;
  // CPU time rather than wall time: the machine is usually shared, and the C side does the same
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const s of inputs) if (fn(s)) hits++;
  const c = process.cpuUsage(c0);
  const secs = (c.user + c.system) / 1e6;
  return { rate: (inputs.length * rounds) / secs, hits };
}

const ts = { sqli: time((s) => detectSqli(s).isSqli), xss: time(detectXss) };

let c: { sqli: number; xss: number } | undefined;
const lib = '/usr/lib/x86_64-linux-gnu/libmodsecurity.so.3';
if (existsSync(lib) && spawnSync('gcc', ['--version']).status === 0) {
  const tmp = mkdtempSync(join(tmpdir(), 'libinjection-bench-'));
  try {
    const exe = join(tmp, 'bench');
    const cc = spawnSync('gcc', ['-O2', join(here, 'bench-c-libinjection.c'), '-o', exe, '-l:libmodsecurity.so.3'], {
      encoding: 'utf8',
    });
    if (cc.status === 0) {
      const hex = inputs.map((s) => Buffer.from(s, 'latin1').toString('hex')).join('\n') + '\n';
      const run = spawnSync(exe, [String(rounds)], { input: hex, encoding: 'utf8', maxBuffer: 1 << 24 });
      const m = Object.fromEntries(run.stdout.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
      c = { sqli: m.sqli, xss: m.xss };
    } else {
      console.error(cc.stderr);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`inputs: ${inputs.length} sample payloads x ${rounds} rounds; node ${process.version}; ${cpus()[0]?.model ?? '?'}`);
console.log('| detector | TypeScript inputs/s (CPU) | µs/input | C (libmodsecurity3) inputs/s (CPU) | TS/C |');
console.log('|---|---:|---:|---:|---:|');
for (const k of ['sqli', 'xss'] as const) {
  const cRate = c?.[k];
  console.log(
    `| ${k} | ${fmt(ts[k].rate)} | ${(1e6 / ts[k].rate).toFixed(2)} | ${cRate ? fmt(cRate) : 'n/a'} | ${cRate ? (ts[k].rate / cRate).toFixed(2) : 'n/a'} |`,
  );
}
