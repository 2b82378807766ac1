// In-process IPS benchmark: CRS v4 at paranoia level 1 (crs-setup defaults), blocking mode, on a
// fixed mix of GET / urlencoded / JSON / multipart requests. Reports CPU µs per request and
// requests per second per core. Usage: npm run bench:ips [-- --seconds N] [-- --re2]
import { cpus } from 'node:os';
import { Transaction } from '@palisade/seclang';
import { crsDir, loadCrsRuleSet } from './crs-disk.ts';
import { benchModSecurity } from './modsecurity.ts';
import { BENCH_MIX, type BenchRequest } from './requests.ts';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 5;
const engine = args.includes('--re2') ? 're2' : args.includes('--js') ? 'js' : 'auto';
const skipModsec = args.includes('--no-modsecurity');

const t0 = performance.now();
const ruleSet = loadCrsRuleSet('', engine);
const loadMs = performance.now() - t0;

function once(r: BenchRequest): Transaction {
  const tx = new Transaction(ruleSet);
  tx.processConnection('192.0.2.10', 51000, '192.0.2.1', 443);
  tx.processUri(r.uri, r.method);
  for (const [k, v] of r.headers) tx.addRequestHeader(k, v);
  tx.processRequestHeaders();
  if (r.body) tx.appendRequestBody(r.body);
  tx.processRequestBody();
  tx.processLogging();
  return tx;
}

// Sanity: the mix is benign, so nothing may block; otherwise we would be timing short-circuits.
for (const r of BENCH_MIX) {
  const tx = once(r);
  if (tx.interruption) throw new Error(`${r.name} was blocked by ${tx.interruption.ruleId}: the benchmark mix must pass CRS`);
}
for (let i = 0; i < 200; i++) once(BENCH_MIX[i % BENCH_MIX.length]!); // warm-up (JIT)

const perType = new Map<string, { n: number; cpuUs: number }>();
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
let n = 0;
while (performance.now() - wall0 < seconds * 1000) {
  for (const r of BENCH_MIX) {
    const c0 = process.cpuUsage();
    once(r);
    const c = process.cpuUsage(c0);
    const e = perType.get(r.name) ?? { n: 0, cpuUs: 0 };
    e.n++;
    e.cpuUs += c.user + c.system;
    perType.set(r.name, e);
    n++;
  }
}
const cpu = process.cpuUsage(cpu0);
const cpuUs = cpu.user + cpu.system;
const usPerReq = cpuUs / n;
const result = {
  engine,
  crsDir,
  rules: ruleSet.ruleCount,
  ruleLoadMs: Math.round(loadMs),
  requests: n,
  cpuMicrosecondsPerRequest: Math.round(usPerReq),
  requestsPerSecondPerCore: Math.round(1e6 / usPerReq),
  perType: Object.fromEntries([...perType].map(([k, v]) => [k, Math.round(v.cpuUs / v.n)])),
  machine: `${cpus()[0]?.model} x${cpus().length}, node ${process.version}`,
};
// The established tool on the same mix, same rules, same machine, same run.
const modsec = skipModsec ? null : await benchModSecurity(BENCH_MIX, 500);
console.log(
  JSON.stringify(
    {
      ...result,
      modsecurity: modsec
        ? { ...modsec, requestsPerSecondPerCore: Math.round(1e6 / modsec.usPerRequest), palisadeCpuRatio: Math.round((usPerReq / modsec.usPerRequest) * 100) / 100 }
        : 'not run (nginx + libnginx-mod-http-modsecurity not installed, or --no-modsecurity)',
    },
    null,
    2,
  ),
);
