// Runs the same request mix through nginx + libmodsecurity v3 + the same CRS, in the same run,
// and reports ModSecurity's CPU per request (nginx worker CPU with `modsecurity on` minus with
// `modsecurity off`). Loopback only. Returns null when nginx or the module is missing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECOMMENDED_BASE_CONFIG } from '@palisade/seclang';
import { childPids, cpuTicks } from '../support/proc-stat.ts';
import { crsDir } from './crs-disk.ts';
import type { BenchRequest } from './requests.ts';

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';

async function send(agent: Agent, port: number, r: BenchRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.uri,
        headers: Object.fromEntries(r.headers.filter(([k]) => k !== 'Connection')),
        agent,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    if (r.body) req.write(r.body);
    req.end();
  });
}

async function runNginx(
  dir: string,
  modsec: boolean,
  port: number,
  mix: BenchRequest[],
  rounds: number,
): Promise<{ ticks: number; requests: number; statuses: Record<string, number> }> {
  const conf = `load_module ${MODULE};
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  client_max_body_size 20m;
  client_body_buffer_size 1m;
  server {
    listen 127.0.0.1:${port};
    modsecurity ${modsec ? 'on' : 'off'};
    modsecurity_rules_file ${dir}/modsec.conf;
    location / { return 200 "ok\\n"; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const master = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr.on('data', (d) => (stderr += d));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 200; i++) {
      try {
        await send(agent, port, mix[0]!);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
        if (i === 199) throw new Error(`nginx did not start: ${stderr}`);
      }
    }
    for (let i = 0; i < 100; i++) await send(agent, port, mix[i % mix.length]!); // warm-up
    const worker = childPids(master.pid!)[0];
    if (!worker) throw new Error('no nginx worker found');
    const t0 = cpuTicks(worker);
    const statuses: Record<string, number> = {};
    let n = 0;
    for (let i = 0; i < rounds; i++) {
      for (const r of mix) {
        const s = await send(agent, port, r);
        statuses[s] = (statuses[s] ?? 0) + 1;
        n++;
      }
    }
    return { ticks: cpuTicks(worker) - t0, requests: n, statuses };
  } finally {
    agent.destroy();
    master.kill('SIGTERM');
    await new Promise((r) => master.once('exit', r));
  }
}

export async function benchModSecurity(
  mix: BenchRequest[],
  rounds: number,
): Promise<{ usPerRequest: number; requests: number; statuses: Record<string, number>; version: string } | null> {
  if (!existsSync(MODULE)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-modsec-'));
  try {
    writeFileSync(
      join(dir, 'modsec.conf'),
      `${RECOMMENDED_BASE_CONFIG}SecAuditEngine Off\nSecDebugLogLevel 0\nInclude ${crsDir}/crs-setup.conf.example\nInclude ${crsDir}/rules/*.conf\n`,
    );
    const port = 18000 + Math.floor(Math.random() * 1000);
    const on = await runNginx(dir, true, port, mix, rounds);
    const off = await runNginx(dir, false, port + 1, mix, rounds);
    const us = ((on.ticks - off.ticks) * 10000) / on.requests;
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    const version =
      /ModSecurity-nginx v[\d.]+ \(rules loaded inline\/local\/remote: [\d/]+\)|libmodsecurity3 version [\d.]+/.exec(log)?.[0] ??
      'libmodsecurity3';
    return { usPerRequest: Math.round(us), requests: on.requests, statuses: on.statuses, version };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
