import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import type { Command } from '@commander-js/extra-typings';
import { dataDirPaths, resolveDataDir } from '@palisade/agent';
import { parse as parseYaml } from 'yaml';
import { CliError, printJson } from './output.ts';

const BUNDLED_PATCH_DIR = fileURLToPath(new URL('../../../../rules/ips', import.meta.url));

interface Fixture {
  id: string;
  method: string;
  uri: string;
  headers: [string, string][];
  body: string;
}

interface ServiceSettings {
  name: string;
  listen: { host: string; port: number };
  tls?: unknown;
  mode?: string;
  patches?: string[];
}

export interface PatchVerdict {
  service: string;
  patch: string;
  cves: string[];
  verdict: 'shielded' | 'not shielded' | 'false positive';
  exploits: { id: string; status: number }[];
  benign: { id: string; status: number }[];
}

function readFixtures(dir: string, kind: 'exploit' | 'benign'): Fixture[] {
  const tdir = join(dir, 'tests');
  if (!existsSync(tdir)) return [];
  const out: Fixture[] = [];
  for (const f of readdirSync(tdir).sort()) {
    if (!f.endsWith('.jsonl') || !f.includes(kind)) continue;
    readFileSync(join(tdir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .forEach((l, i) => {
        const o = JSON.parse(l) as {
          id?: string;
          method: string;
          uri: string;
          headers?: Record<string, string> | [string, string][];
          body?: string;
        };
        const headers = Array.isArray(o.headers) ? o.headers : Object.entries(o.headers ?? {});
        out.push({
          id: o.id ?? `${f}:${i + 1}`,
          method: o.method,
          uri: o.uri,
          headers: headers.map(([k, v]) => [k, String(v)]),
          body: o.body ?? '',
        });
      });
  }
  return out;
}

/** The fixture byte for byte on a fresh connection, the way the exploit tool would send it. */
function send(target: { host: string; port: number; tls: boolean }, r: Fixture, timeoutMs = 10_000): Promise<number> {
  const body = Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.uri} HTTP/1.1`];
  if (!r.headers.some(([k]) => k.toLowerCase() === 'host')) lines.push(`Host: ${target.host}:${target.port}`);
  for (const [k, v] of r.headers) if (!/^(?:content-length|connection)$/i.test(k)) lines.push(`${k}: ${v}`);
  lines.push('Connection: close');
  if (body.length || /^(?:POST|PUT|PATCH)$/i.test(r.method)) lines.push(`Content-Length: ${body.length}`);
  const payload = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
  return new Promise((resolve) => {
    let buf = '';
    const sock = target.tls
      ? tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
      : net.connect(target.port, target.host);
    const done = () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      resolve(m ? Number(m[1]) : 0);
    };
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on(target.tls ? 'secureConnect' : 'connect', () => sock.write(payload));
    sock.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
    });
    sock.on('error', () => undefined);
    sock.on('close', done);
  });
}

/**
 * Replays the exploit and benign fixtures of every patch assigned to each protected service
 * through the running proxy: shielded = every exploit answered with the block status and no
 * benign request blocked.
 */
export async function verifyShielding(effectiveConfig: unknown, only?: string): Promise<PatchVerdict[]> {
  const ips = (effectiveConfig as { modules?: Record<string, { enabled?: boolean; mode?: string; settings?: Record<string, unknown> }> })
    ?.modules?.ips;
  if (!ips?.enabled || !ips.settings) throw new CliError('IPS_NOT_CONFIGURED', 'the ips module is not enabled in this agent configuration');
  const s = ips.settings as {
    services?: ServiceSettings[];
    ruleSets?: { patches?: { dir?: string; only?: string[] } };
    blockStatus?: number;
  };
  // Same default as the agent: a policy may assign patches without naming the bundled pack's dir.
  const packDir = s.ruleSets?.patches ? (s.ruleSets.patches.dir ?? BUNDLED_PATCH_DIR) : undefined;
  if (!packDir) throw new CliError('IPS_NO_PATCHES', 'no virtual patch rule set is assigned (settings.ruleSets.patches)');
  const services = (s.services ?? []).filter((x) => !only || x.name === only);
  if (only && services.length === 0) throw new CliError('IPS_UNKNOWN_SERVICE', `no protected service named ${only}`);
  const blockStatus = s.blockStatus ?? 403;
  const all = existsSync(packDir)
    ? readdirSync(packDir)
        .filter((d) => existsSync(join(packDir, d, 'rule.conf')))
        .sort()
    : [];
  const out: PatchVerdict[] = [];
  for (const svc of services) {
    const host = svc.listen.host === '0.0.0.0' || svc.listen.host === '::' ? '127.0.0.1' : svc.listen.host;
    const target = { host, port: svc.listen.port, tls: !!svc.tls };
    for (const patch of svc.patches ?? s.ruleSets?.patches?.only ?? all) {
      const dir = join(packDir, patch);
      const meta = existsSync(join(dir, 'meta.yaml'))
        ? (parseYaml(readFileSync(join(dir, 'meta.yaml'), 'utf8')) as { cves?: string[] })
        : {};
      const exploits = [];
      for (const f of readFixtures(dir, 'exploit')) exploits.push({ id: f.id, status: await send(target, f) });
      const benign = [];
      for (const f of readFixtures(dir, 'benign')) benign.push({ id: f.id, status: await send(target, f) });
      const shielded = exploits.length > 0 && exploits.every((e) => e.status === blockStatus);
      const fp = benign.some((b) => b.status === blockStatus || b.status === 0);
      out.push({
        service: svc.name,
        patch,
        cves: meta.cves ?? [patch],
        verdict: fp ? 'false positive' : shielded ? 'shielded' : 'not shielded',
        exploits,
        benign,
      });
    }
  }
  return out;
}

export function registerVerifyCommands(program: Command): void {
  program
    .command('verify')
    .description(
      'replay every assigned virtual patch exploit and benign fixture through the running IPS proxy; report shielded / not shielded per CVE',
    )
    .option('--service <name>', 'only this protected service')
    .option('--data-dir <dir>', 'agent data directory (its cached configuration says what is assigned)')
    .option('--config <file>', 'an effective configuration JSON instead of the agent cache')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      let config: unknown;
      const file = opts.config ?? dataDirPaths(resolveDataDir(opts.dataDir)).config;
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { config?: unknown };
        config = opts.config ? (parsed.config ?? parsed) : parsed.config;
      } catch (err) {
        throw new CliError('IPS_CONFIG_UNREADABLE', `cannot read the agent configuration ${file}: ${(err as Error).message}`);
      }
      const verdicts = await verifyShielding(config, opts.service);
      const bad = verdicts.filter((v) => v.verdict !== 'shielded');
      if (opts.json) printJson({ verdicts, shielded: verdicts.length - bad.length, total: verdicts.length });
      else {
        for (const v of verdicts) process.stdout.write(`${v.service.padEnd(16)} ${v.cves.join(',').padEnd(40)} ${v.verdict}\n`);
        process.stdout.write(`${verdicts.length - bad.length}/${verdicts.length} patches shielded\n`);
      }
      if (bad.length) process.exitCode = 1;
    });
}
