import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { childPids, cpuSecondsOf } from '../support/proc-stat.ts';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The same upstream behind (a) the Palisade IPS proxy and (b) nginx + libmodsecurity3, both with
 * the same OWASP CRS at PL1 in blocking mode, loaded by wrk at equal concurrency. Each side gets
 * one process / one worker; the CPU time each server used during its run is read from /proc, so
 * throughput is also reported per CPU-second (the Node proxy has more than one thread, and the
 * three processes share the machine's cores with wrk). A second, unsaturated phase (one
 * connection, LATENCY_DURATION s) measures the latency each adds to a request, which the
 * saturated phase cannot: there latency is queueing. Prints Markdown tables.
 *
 * Env: DURATION (s, default 10), CONNECTIONS (default 32), LATENCY_DURATION (s, default 5),
 * PALISADE_SHARED.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shared = process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared');
const crsDir = join(shared, 'crs');
const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 32);
const latencyDuration = Number(process.env.LATENCY_DURATION ?? 5);
const work = mkdtempSync(join(tmpdir(), 'ips-bench-'));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  children.push(c);
  return c;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Share of a core the server process (and its children) used during the run. */
  serverCores?: number;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/** CPU seconds used so far by a process and its direct children (nginx: master and worker). */
function treeCpuSeconds(pid: number): number {
  return cpuSecondsOf([pid, ...childPids(pid)]);
}

function wrk(url: string, opts: { connections?: number; seconds?: number; serverPid?: number } = {}): WrkResult {
  const cpu0 = opts.serverPid ? treeCpuSeconds(opts.serverPid) : 0;
  const t0 = performance.now();
  const result = runWrk(url, opts.connections ?? connections, opts.seconds ?? duration);
  if (opts.serverPid) result.serverCores = (treeCpuSeconds(opts.serverPid) - cpu0) / ((performance.now() - t0) / 1000);
  return result;
}

function runWrk(url: string, conns: number, seconds: number): WrkResult {
  const out = execFileSync(
    'wrk',
    [
      '-t1',
      `-c${conns}`,
      `-d${seconds}s`,
      '--latency',
      '-H',
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench',
      '-H',
      'Accept: text/html',
      url,
    ],
    { encoding: 'utf8' },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50, p99, non2xx };
}

function nginxConfig(port: number, upstreamPort: number): string {
  writeFileSync(
    join(work, 'modsec.conf'),
    `SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecResponseBodyAccess Off
SecAuditEngine Off
SecDebugLogLevel 0
SecAction "id:9598001,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level=1,setvar:tx.detection_paranoia_level=1"
Include ${crsDir}/crs-setup.conf.example
Include ${crsDir}/rules/*.conf
`,
  );
  return `load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${work}/body; proxy_temp_path ${work}/proxy; fastcgi_temp_path ${work}/fcgi; uwsgi_temp_path ${work}/uwsgi; scgi_temp_path ${work}/scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    modsecurity on;
    modsecurity_rules_file ${work}/modsec.conf;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
}

try {
  const upstreamPort = await freePort();
  start(process.execPath, [
    '-e',
    `require('http').createServer({keepAliveTimeout:60000},(q,s)=>{q.resume();q.on('end',()=>s.end('hello from the upstream application'))}).listen(${upstreamPort},'127.0.0.1')`,
  ]);
  await waitPort(upstreamPort);

  const palisadePort = await freePort();
  const settings = {
    services: [{ name: 'bench', listen: { host: '127.0.0.1', port: palisadePort }, upstream: { host: '127.0.0.1', port: upstreamPort } }],
    paranoia: 1,
    ruleSets: { crs: { dir: crsDir } },
    eventWindowSeconds: 60,
  };
  writeFileSync(join(work, 'palisade.json'), JSON.stringify(settings));
  const palisadeProc = start(process.execPath, [
    '--import',
    'tsx',
    join(repoRoot, 'bench/ips-proxy/palisade-proxy-process.ts'),
    join(work, 'palisade.json'),
  ]);
  await waitPort(palisadePort);

  const nginxPort = await freePort();
  writeFileSync(join(work, 'nginx.conf'), nginxConfig(nginxPort, upstreamPort));
  const nginxProc = start('nginx', ['-c', join(work, 'nginx.conf'), '-e', join(work, 'nginx-error.log')]);
  await waitPort(nginxPort);

  const path = '/products/standing-desk?color=oak&size=140x70&q=comfortable+desk+for+home+office';
  const palisadePid = palisadeProc.pid!;
  const nginxPid = nginxProc.pid!;
  const direct = wrk(`http://127.0.0.1:${upstreamPort}${path}`);
  const pal = wrk(`http://127.0.0.1:${palisadePort}${path}`, { serverPid: palisadePid });
  const ngx = wrk(`http://127.0.0.1:${nginxPort}${path}`, { serverPid: nginxPid });
  const perCpu = (r: WrkResult) => (r.serverCores ? r.rps / r.serverCores : Number.NaN);
  const row = (n: string, r: WrkResult, base: WrkResult) =>
    `| ${n} | ${r.rps.toFixed(0)} | ${r.serverCores === undefined ? '' : r.serverCores.toFixed(2)} | ${r.serverCores === undefined ? '' : perCpu(r).toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p99 - base.p99).toFixed(2)} | ${r.non2xx} |`;
  const header = [
    '| target | req/s | server cores | req per CPU-second | p50 ms | p99 ms | p99 added vs direct ms | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  console.log(
    `# IPS proxy benchmark (${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, CRS PL1 blocking, GET ${path}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n`,
  );
  console.log(`## Saturated: wrk -t1 -c${connections} -d${duration}s\n`);
  console.log(
    [
      ...header,
      row('upstream direct', direct, direct),
      row('Palisade proxy (1 process)', pal, direct),
      row('nginx + ModSecurity 3 (1 worker)', ngx, direct),
    ].join('\n'),
  );
  console.log(
    `\nthroughput ratio Palisade / nginx+ModSecurity: ${(pal.rps / ngx.rps).toFixed(2)}x; per CPU-second: ${(perCpu(pal) / perCpu(ngx)).toFixed(2)}x`,
  );

  const one = { connections: 1, seconds: latencyDuration };
  const directL = wrk(`http://127.0.0.1:${upstreamPort}${path}`, one);
  const palL = wrk(`http://127.0.0.1:${palisadePort}${path}`, { ...one, serverPid: palisadePid });
  const ngxL = wrk(`http://127.0.0.1:${nginxPort}${path}`, { ...one, serverPid: nginxPid });
  console.log(`\n## Unsaturated (added latency): wrk -t1 -c1 -d${latencyDuration}s\n`);
  console.log(
    [
      ...header,
      row('upstream direct', directL, directL),
      row('Palisade proxy (1 process)', palL, directL),
      row('nginx + ModSecurity 3 (1 worker)', ngxL, directL),
    ].join('\n'),
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  rmSync(work, { recursive: true, force: true });
}
