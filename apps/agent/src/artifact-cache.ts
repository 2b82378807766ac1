import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  agentAuthorization,
  ARTIFACT_SETTINGS,
  type ArtifactKind,
  type ArtifactRef,
  artifactFileName,
  isArtifactRef,
  type ModuleStatus,
} from '@palisade/protocol';
import { errorMessage } from './agent-error.ts';
import type { AgentLogger } from './agent-logger.ts';
import type { ManagerClient } from './manager-client.ts';

/** Why an artifact named by the configuration is not (or not in its current version) in use. */
export interface ArtifactProblem {
  code: 'AGENT_ARTIFACT_HASH_MISMATCH' | 'AGENT_ARTIFACT_DOWNLOAD_FAILED' | 'AGENT_ARTIFACT_MISSING';
  kind: ArtifactKind;
  name: string;
  message: string;
  /** The version still in force (the last good copy), if any. */
  inForce?: string;
}

export interface ArtifactCacheOptions {
  /** `<data-dir>/artifacts` */
  dir: string;
  client: () => ManagerClient;
  logger: AgentLogger;
  timeoutMs?: number;
  /** Wait before downloading a version that failed again (doubles up to an hour). */
  retryMs?: number;
}

const CLAMAV_FORMATS = new Set(['hdb', 'hsb', 'mdb', 'msb', 'ndb', 'ldb', 'fp', 'sfp', 'ign', 'ign2', 'cvd', 'cld']);
const PENDING = '+artifacts-pending';
const MODULE_OF: Record<ArtifactKind, string> = {
  'signature-set': ARTIFACT_SETTINGS.signatureSets.module,
  'webrep-feed': ARTIFACT_SETTINGS.feeds.module,
};

function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  return pipeline(createReadStream(path), async function* (src) {
    for await (const chunk of src) h.update(chunk as Buffer);
  }).then(() => h.digest('hex'));
}

/**
 * Signature sets and web-reputation feeds from the manager, on the agent's disk. The effective
 * configuration names each one with its SHA-256; the cache downloads it once, checks the hash
 * BEFORE anything reads it, keeps the last good copy of every name for restarts without the
 * manager, and rewrites the configuration so the modules see plain local files:
 *
 * - anti-malware `signatureSets: [ref]` become `signatures.clamav` / `signatures.yara` paths;
 * - web-reputation feeds with an `artifact` become `{file, name, …}`, the file's modification
 *   time set to when the manager last refreshed the feed, so the module's own `feedMaxAgeHours`
 *   check flags a feed the manager stopped refreshing.
 *
 * A download that fails or does not match leaves the previous version in force; the module's
 * status then says so (`annotate`) and the configuration is reported as not fully applied (its
 * hash gets `+artifacts-pending`), so the next heartbeat tries again.
 *
 * Layout: `<dir>/<kind>/<name>/<sha256>/<file>` and `<dir>/<kind>/<name>/good` (the sha256 in force).
 */
export class ArtifactCache {
  private readonly problems = new Map<string, ArtifactProblem[]>();
  private readonly verified = new Set<string>();
  private readonly failures = new Map<string, { at: number; waitMs: number; code: ArtifactProblem['code']; why: string }>();

  constructor(private readonly options: ArtifactCacheOptions) {}

  /** The configuration the modules get, and the hash to report for it. */
  async prepare(hash: string, config: unknown): Promise<{ hash: string; config: unknown }> {
    const { config: out, complete, refs } = await this.resolve(config);
    // A configuration without references (one cached after resolving) keeps the hash it was
    // saved with: a pending one must stay pending so the next heartbeat fetches and retries.
    if (refs === 0) return { hash, config: out };
    const base = hash.endsWith(PENDING) ? hash.slice(0, -PENDING.length) : hash;
    return { hash: complete || !base ? base : `${base}${PENDING}`, config: out };
  }

  /** Current problems, by module. */
  problemsOf(module: string): ArtifactProblem[] {
    return this.problems.get(module) ?? [];
  }

  /** A module's status with its artifact problems added (the module keeps running on what it has). */
  annotate(module: string, status: ModuleStatus): ModuleStatus {
    const problems = this.problemsOf(module);
    if (problems.length === 0 || status.state === 'off' || status.state === 'unsupported') return status;
    const reason = [...problems.map((p) => p.message), ...(status.reason ? [status.reason] : [])].join('; ').slice(0, 1000);
    return {
      ...status,
      reason,
      details: {
        ...(status.details ?? {}),
        degraded: true,
        artifactProblems: problems.map(({ code, kind, name, message, inForce }) => ({
          code,
          kind,
          name,
          message,
          inForce: inForce ?? null,
        })),
      },
    };
  }

  /** Resolves every artifact reference; `complete` is false when one is not in its current version. */
  async resolve(config: unknown): Promise<{ config: unknown; complete: boolean; refs: number }> {
    const modules = (config as { modules?: Record<string, { settings?: Record<string, unknown> }> } | null)?.modules;
    this.problems.clear();
    if (!modules || typeof modules !== 'object') return { config, complete: true, refs: 0 };
    const out = structuredClone(config) as { modules: Record<string, { settings: Record<string, unknown> }> };
    let complete = true;
    let refs = 0;

    const am = out.modules[ARTIFACT_SETTINGS.signatureSets.module];
    const sets = am?.settings?.[ARTIFACT_SETTINGS.signatureSets.key];
    if (am && Array.isArray(sets)) {
      const signatures = { ...((am.settings.signatures as Record<string, unknown> | undefined) ?? {}) };
      const clamav = [...((signatures.clamav as string[] | undefined) ?? [])];
      const yara = [...((signatures.yara as string[] | undefined) ?? [])];
      for (const ref of sets) {
        if (!isArtifactRef(ref)) continue;
        refs++;
        const got = await this.fetch(ref);
        if (!got.current) complete = false;
        if (!got.path) continue;
        if (got.format === 'yara') yara.push(got.path);
        else if (got.format && CLAMAV_FORMATS.has(got.format)) clamav.push(got.path);
      }
      const { [ARTIFACT_SETTINGS.signatureSets.key]: _refs, ...rest } = am.settings;
      am.settings = { ...rest, signatures: { ...signatures, ...(clamav.length ? { clamav } : {}), ...(yara.length ? { yara } : {}) } };
    }

    const wr = out.modules[ARTIFACT_SETTINGS.feeds.module];
    const feeds = wr?.settings?.[ARTIFACT_SETTINGS.feeds.key];
    if (wr && Array.isArray(feeds)) {
      const next: unknown[] = [];
      for (const f of feeds as Record<string, unknown>[]) {
        if (!f || typeof f !== 'object' || !isArtifactRef(f.artifact)) {
          next.push(f);
          continue;
        }
        const { artifact, ...feed } = f as Record<string, unknown> & { artifact: ArtifactRef };
        refs++;
        const got = await this.fetch(artifact);
        if (!got.current) complete = false;
        if (got.path) next.push({ ...feed, file: got.path });
      }
      wr.settings = { ...wr.settings, feeds: next };
    }
    return { config: out, complete, refs };
  }

  private problem(p: ArtifactProblem): void {
    const module = MODULE_OF[p.kind];
    this.problems.set(module, [...this.problemsOf(module), p]);
    this.options.logger.warn({ code: p.code, kind: p.kind, name: p.name, inForce: p.inForce }, p.message);
  }

  private nameDir(ref: { kind: ArtifactKind; name: string }): string {
    return join(this.options.dir, ref.kind, ref.name);
  }

  /** The last good copy of a name: its path and format, if one is on disk. */
  private lastGood(ref: ArtifactRef): { path: string; format: string; sha256: string } | undefined {
    try {
      const good = JSON.parse(readFileSync(join(this.nameDir(ref), 'good'), 'utf8')) as { sha256: string; format: string };
      const path = join(this.nameDir(ref), good.sha256, artifactFileName(ref.kind, ref.name, good.format));
      return existsSync(path) ? { path, format: good.format, sha256: good.sha256 } : undefined;
    } catch {
      return undefined;
    }
  }

  private fallback(ref: ArtifactRef, code: ArtifactProblem['code'], why: string): { path?: string; format?: string; current: false } {
    const good = this.lastGood(ref);
    const what = ref.kind === 'signature-set' ? 'signature set' : 'feed';
    const keep = good
      ? `the previous version (${good.sha256.slice(0, 12)}) stays in force`
      : 'no earlier version is on this host, so it is not used';
    this.problem({
      code,
      kind: ref.kind,
      name: ref.name,
      message: `${what} ${ref.name}: ${why}; ${keep}`,
      ...(good ? { inForce: good.sha256 } : {}),
    });
    return good ? { path: good.path, format: good.format, current: false } : { current: false };
  }

  /** The verified local file of a reference (downloading it when needed), or the last good copy. */
  private async fetch(ref: ArtifactRef): Promise<{ path?: string; format?: string; current: boolean }> {
    if (ref.missing || !ref.sha256 || !ref.url || !ref.format) {
      return this.fallback(ref, 'AGENT_ARTIFACT_MISSING', 'the manager has no artifact of this name');
    }
    const dir = join(this.nameDir(ref), ref.sha256);
    const path = join(dir, artifactFileName(ref.kind, ref.name, ref.format));
    const key = `${ref.kind}/${ref.name}/${ref.sha256}`;
    if (existsSync(path) && (this.verified.has(path) || (await sha256File(path)) === ref.sha256)) {
      this.verified.add(path);
    } else {
      const failed = this.failures.get(key);
      // A version that just failed is not downloaded again at every heartbeat.
      if (failed && Date.now() - failed.at < failed.waitMs) return this.fallback(ref, failed.code, failed.why);
      const got = await this.download(ref, dir, path);
      if (got) {
        const waitMs = failed ? Math.min(failed.waitMs * 2, 3600_000) : (this.options.retryMs ?? 60_000);
        this.failures.set(key, { at: Date.now(), waitMs, code: got.code, why: got.message });
        return this.fallback(ref, got.code, got.message);
      }
      this.failures.delete(key);
      this.verified.add(path);
    }
    if (ref.kind === 'webrep-feed' && ref.refreshedAt) {
      const t = new Date(ref.refreshedAt);
      if (!Number.isNaN(t.getTime())) utimesSync(path, t, t);
    }
    this.markGood(ref, ref.sha256, ref.format);
    return { path, format: ref.format, current: true };
  }

  private markGood(ref: ArtifactRef, sha256: string, format: string): void {
    const nameDir = this.nameDir(ref);
    const goodFile = join(nameDir, 'good');
    let previous: string | undefined;
    try {
      previous = (JSON.parse(readFileSync(goodFile, 'utf8')) as { sha256: string }).sha256;
    } catch {}
    if (previous === sha256) return;
    writeFileAtomic(goodFile, `${JSON.stringify({ sha256, format })}\n`);
    // Keep the version in force only: older ones are never used again.
    for (const entry of readdirSync(nameDir))
      if (entry !== 'good' && entry !== sha256) rmSync(join(nameDir, entry), { recursive: true, force: true });
  }

  /** Downloads into a temporary file, hashing on the way; renames into place only when it matches. */
  private async download(
    ref: ArtifactRef,
    dir: string,
    path: string,
  ): Promise<{ code: ArtifactProblem['code']; message: string } | undefined> {
    const client = this.options.client();
    const { managerUrl, ca, credentials } = client.options;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.part`;
    const url = new URL(managerUrl);
    url.pathname = url.pathname.replace(/\/$/, '') + ref.url!;
    const transport = url.protocol === 'https:' ? https : http;
    const hash = createHash('sha256');
    let size = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = transport.get(
          url,
          {
            headers: credentials ? { authorization: agentAuthorization(credentials.agentId, credentials.agentSecret) } : {},
            ...(url.protocol === 'https:' && ca ? { ca } : {}),
            timeout: this.options.timeoutMs ?? 300_000,
          },
          (res) => {
            if (res.statusCode !== 200) {
              res.resume();
              reject(new Error(`the manager answered ${res.statusCode} for ${ref.url}`));
              return;
            }
            const file = createWriteStream(tmp, { mode: 0o600 });
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (ref.size !== undefined && size > ref.size) res.destroy(new Error(`larger than the ${ref.size} bytes announced`));
              else hash.update(chunk);
            });
            pipeline(res, file).then(resolve, reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error('download timed out')));
        req.on('error', reject);
      });
    } catch (err) {
      rmSync(tmp, { force: true });
      return { code: 'AGENT_ARTIFACT_DOWNLOAD_FAILED', message: `download failed: ${errorMessage(err)}` };
    }
    const got = hash.digest('hex');
    if (got !== ref.sha256 || (ref.size !== undefined && size !== ref.size)) {
      rmSync(tmp, { force: true });
      return {
        code: 'AGENT_ARTIFACT_HASH_MISMATCH',
        message: `downloaded content has sha256 ${got} (${size} bytes) but the configuration says ${ref.sha256} (${ref.size} bytes): refused`,
      };
    }
    renameSync(tmp, path);
    return undefined;
  }
}

function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
