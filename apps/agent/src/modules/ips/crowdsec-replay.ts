import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../agent-logger.ts';
import { generateBenignCorpus } from './benign-corpus.ts';
import { IpsModule } from './ips-module.ts';
import { parseNucleiTemplate } from './nuclei-template.ts';
import { sendRaw, serializeRequest } from './raw-http-client.ts';
import type { ReplayRequest } from './replay-request.ts';

/**
 * The one site tuning the benign corpus needs, as a GraphQL API would configure it: GraphQL
 * selection sets (`{ id name }`) read as shell command groups to CRS 932235.
 */
export const REPLAY_SITE_EXCLUSIONS = [{ ruleIds: [932235], pathPrefix: '/graphql', targets: ['ARGS:json.query'] }];

export interface TemplateOutcome {
  name: string;
  fullyBlocked: boolean;
  steps: { method: string; uri: string; expectBlocked: boolean; status: number; reachedUpstream: boolean }[];
}

export interface ReplayReport {
  templates: TemplateOutcome[];
  benign: { total: number; blocked: { id: string; status: number; request: string }[] };
  ruleCount: number;
  seconds: number;
}

/**
 * Replays the CrowdSec hub's Nuclei exploit templates (and the benign corpus) through a real
 * IPS proxy in prevent mode in front of a recording upstream. A step counts as blocked when the
 * proxy answers it and the upstream never sees it. `now` is only used to time the run.
 */
export async function replayCrowdSec(opts: {
  testsDir: string;
  packDir: string;
  crsDir?: string;
  paranoia?: number;
  only?: (name: string) => boolean;
  benignCount?: number;
  exclusions?: unknown[];
  crowdsec?: { name: string; yaml: string }[];
  now: () => number;
}): Promise<ReplayReport> {
  const t0 = opts.now();
  let seen = 0;
  const upstream = http.createServer({ requireHostHeader: false }, (req, res) => {
    req.resume();
    req.on('end', () => {
      seen++;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upPort = (upstream.address() as AddressInfo).port;
  const config: ModuleConfig = {
    enabled: true,
    mode: 'prevent',
    settings: {
      services: [{ name: 'replay', listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upPort } }],
      paranoia: opts.paranoia ?? 1,
      ruleSets: {
        patches: { dir: opts.packDir },
        ...(opts.crsDir ? { crs: { dir: opts.crsDir } } : {}),
        ...(opts.crowdsec ? { crowdsec: opts.crowdsec } : {}),
      },
      exclusions: opts.exclusions ?? REPLAY_SITE_EXCLUSIONS,
    },
  };
  const mod = new IpsModule({ flushIntervalMs: 3_600_000 });
  const diags = mod.configure(config);
  if (diags.length) throw new Error(JSON.stringify(diags));
  await mod.start({ emit: (e) => e as never, logger: silentLogger(), dataDir: '/nonexistent', config });
  const port = mod.listening().replay!.port;
  const target = { host: '127.0.0.1', port };
  const send = async (req: ReplayRequest) => {
    const before = seen;
    let status = 0;
    try {
      status = (await sendRaw(target, serializeRequest(req, `127.0.0.1:${port}`))).status;
    } catch {
      status = 0;
    }
    return { status, reachedUpstream: seen > before };
  };
  const templates: TemplateOutcome[] = [];
  try {
    for (const name of readdirSync(opts.testsDir).sort()) {
      const cfgPath = join(opts.testsDir, name, 'config.yaml');
      if (!existsSync(cfgPath) || (opts.only && !opts.only(name))) continue;
      const tplName = /nuclei_template:\s*(\S+)/.exec(readFileSync(cfgPath, 'utf8'))?.[1];
      if (!tplName || !existsSync(join(opts.testsDir, name, tplName))) continue;
      const tpl = parseNucleiTemplate(readFileSync(join(opts.testsDir, name, tplName), 'utf8'), `127.0.0.1:${port}`);
      const steps: TemplateOutcome['steps'] = [];
      for (const s of tpl.steps) {
        const r = await send(s.request);
        steps.push({ method: s.request.method, uri: s.request.uri.slice(0, 200), expectBlocked: s.expectBlocked, ...r });
      }
      const fullyBlocked =
        steps.length > 0 && steps.every((s) => (s.expectBlocked ? !s.reachedUpstream && s.status !== 0 : s.reachedUpstream));
      templates.push({ name, fullyBlocked, steps });
    }
    const blocked: ReplayReport['benign']['blocked'] = [];
    const corpus = generateBenignCorpus(opts.benignCount ?? 520);
    for (const b of corpus) {
      const r = await send(b);
      if (!r.reachedUpstream) blocked.push({ id: b.id!, status: r.status, request: `${b.method} ${b.uri.slice(0, 120)}` });
    }
    const ruleCount = Number((mod.status().details?.services as Record<string, { rules: number }>)?.replay?.rules ?? 0);
    return { templates, benign: { total: corpus.length, blocked }, ruleCount, seconds: (opts.now() - t0) / 1000 };
  } finally {
    await mod.stop();
    upstream.close();
  }
}
