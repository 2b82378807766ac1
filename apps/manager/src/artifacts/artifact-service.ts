import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Diagnostic } from '@palisade/diagnostics';
import type { ArtifactKind } from '@palisade/protocol';
import type { JobHandler } from '../jobs/job-handlers.ts';
import type { ArtifactInfo, PutArtifact } from '../store/artifact-repository.ts';
import type { Clock } from '../store/json-column.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { artifactNames, artifactsOf, forgetArtifactCatalog } from './resolve-artifact-refs.ts';
import { checkArtifact, formatProblem, MAX_ARTIFACT_BYTES, nameProblem, SIGNATURE_FORMATS } from './artifact-formats.ts';
import { computeEffectiveConfig } from '../config/effective-config.ts';

/** An artifact refused before anything was stored; `diagnostics` carry file:line from the parser. */
export class ArtifactRejected extends Error {
  constructor(
    readonly code: 'ARTIFACT_INVALID' | 'ARTIFACT_TOO_LARGE' | 'ARTIFACT_DOWNLOAD_FAILED' | 'ARTIFACT_IMPORT_FAILED',
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    readonly field?: string,
  ) {
    super(message);
  }
}

/** What an upload, a folder import or a download hands over: the repository's input, validated here first. */
export type StoreInput = PutArtifact;

export interface StoredArtifact {
  artifact: ArtifactInfo;
  changed: boolean;
  created: boolean;
  /** Warnings from the parser (skipped feed lines, unsupported container members). */
  warnings: Diagnostic[];
  summary: Record<string, unknown>;
}

/** Checks the name, format and content; throws ArtifactRejected for anything the agent would refuse. */
export function validate(input: Omit<StoreInput, 'source'>): { warnings: Diagnostic[]; summary: Record<string, unknown> } {
  const np = nameProblem(input.name);
  if (np) throw new ArtifactRejected('ARTIFACT_INVALID', np, [], '/name');
  const fp = formatProblem(input.kind, input.format);
  if (fp) throw new ArtifactRejected('ARTIFACT_INVALID', fp, [], '/format');
  if (input.bytes.length > MAX_ARTIFACT_BYTES)
    throw new ArtifactRejected(
      'ARTIFACT_TOO_LARGE',
      `${input.bytes.length} bytes is more than the ${MAX_ARTIFACT_BYTES} an artifact may have`,
    );
  const check = checkArtifact(input.kind, input.name, input.format, input.bytes);
  if (!check.ok) {
    const errors = check.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0] ?? check.diagnostics[0];
    const where = first?.file ? `${first.file}${first.line ? `:${first.line}${first.column ? `:${first.column}` : ''}` : ''}: ` : '';
    throw new ArtifactRejected(
      'ARTIFACT_INVALID',
      `${input.kind} ${input.name} refused (${errors.length} errors): ${where}${first?.message ?? 'does not parse'}`.slice(0, 2000),
      check.diagnostics.slice(0, 200),
    );
  }
  return { warnings: check.diagnostics.slice(0, 200), summary: check.summary };
}

export async function storeArtifact(store: TenantStore, clock: Clock, input: StoreInput): Promise<StoredArtifact> {
  const { warnings, summary } = validate(input);
  const res = await artifactsOf(store, clock).put(input);
  forgetArtifactCatalog(store);
  return { ...res, warnings, summary };
}

/** The policies and computers whose settings name this artifact: it cannot be deleted under them. */
export async function artifactUsers(store: TenantStore, kind: ArtifactKind, name: string): Promise<string[]> {
  const names = (settings: unknown) =>
    artifactNames(computeEffectiveConfig([], settings as never)).some((n) => n.kind === kind && n.name === name);
  const users: string[] = [];
  for (const p of await store.policies.list()) if (names(p.settings)) users.push(`policy:${p.name}`);
  for (const c of await store.computers.list()) if (names(c.overrides)) users.push(`computer:${c.hostname}`);
  return users;
}

const SIGNATURE_EXT = new Set<string>(SIGNATURE_FORMATS.filter((f) => f !== 'yara'));

/** Format of a file by its extension: ClamAV extensions, `.yar`/`.yara`; feeds are detected from content. */
export function formatFromFileName(kind: ArtifactKind, file: string): string | undefined {
  const ext = extname(file).slice(1).toLowerCase();
  if (kind === 'webrep-feed') return 'auto';
  if (ext === 'yar' || ext === 'yara') return 'yara';
  return SIGNATURE_EXT.has(ext) ? ext : undefined;
}

/** `main.cvd` → `main`; `urlhaus.csv.gz` → `urlhaus.csv`: names stay close to the files. */
export function nameFromFileName(file: string): string {
  return file.replace(/\.(gz)$/i, '').replace(/\.[^.]+$/, '') || file;
}

/**
 * Imports every usable file of a folder on the manager host, all or nothing: every file is
 * parsed first, and nothing is stored unless all of them pass.
 */
export async function importFolder(
  store: TenantStore,
  clock: Clock,
  kind: ArtifactKind,
  dir: string,
): Promise<{ imported: StoredArtifact[]; skipped: string[] }> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    entries = (await readdir(dir)).sort();
  } catch (err) {
    throw new ArtifactRejected('ARTIFACT_IMPORT_FAILED', `cannot read the folder ${dir}: ${(err as Error).message}`, [], '/path');
  }
  const inputs: StoreInput[] = [];
  const skipped: string[] = [];
  for (const file of entries) {
    const path = join(dir, file);
    const format = formatFromFileName(kind, file);
    if (!format || file.startsWith('.') || !(await stat(path)).isFile()) {
      skipped.push(file);
      continue;
    }
    inputs.push({ kind, name: nameFromFileName(file), format, bytes: await readFile(path), source: `folder:${path}` });
  }
  if (inputs.length === 0) throw new ArtifactRejected('ARTIFACT_IMPORT_FAILED', `no ${kind} files in ${dir}`, [], '/path');
  const seen = new Set<string>();
  for (const i of inputs) {
    if (seen.has(i.name))
      throw new ArtifactRejected('ARTIFACT_IMPORT_FAILED', `two files in ${dir} would both be named ${i.name}`, [], '/path');
    seen.add(i.name);
  }
  const problems: Diagnostic[] = [];
  for (const i of inputs) {
    try {
      validate(i);
    } catch (err) {
      if (!(err instanceof ArtifactRejected)) throw err;
      problems.push(
        ...(err.diagnostics.length
          ? err.diagnostics
          : [{ code: err.code, message: err.message, severity: 'error' as const, file: i.name }]),
      );
    }
  }
  if (problems.length) {
    throw new ArtifactRejected(
      'ARTIFACT_INVALID',
      `nothing imported: ${problems.filter((d) => d.severity === 'error').length} errors in ${dir}`,
      problems.slice(0, 200),
    );
  }
  const imported: StoredArtifact[] = [];
  for (const i of inputs) imported.push(await storeArtifact(store, clock, i));
  return { imported, skipped };
}

export const DOWNLOAD_TIMEOUT_MS = 50_000;

/** Fetches a URL with a size cap and a timeout; only http(s). */
export async function downloadBytes(url: string, opts: { timeoutMs?: number; maxBytes?: number } = {}): Promise<Buffer> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`only http and https URLs are downloaded, not ${u.protocol}`);
  const max = opts.maxBytes ?? MAX_ARTIFACT_BYTES;
  // Inside the job lease (60 s): jobs are not renewed while they run, and a node runs its jobs one
  // after the other, so a slow mirror must not hold the others back for long.
  const res = await fetch(u, { signal: AbortSignal.timeout(opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`${u.origin}${u.pathname} answered ${res.status} ${res.statusText}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new Error(`larger than ${max} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Job kind of periodic downloads (scheduled tasks named `artifact-download:<kind>:<name>`). */
export const ARTIFACT_DOWNLOAD_JOB = 'artifact-download';
export const downloadTaskName = (kind: ArtifactKind, name: string) => `${ARTIFACT_DOWNLOAD_JOB}:${kind}:${name}`;

export interface DownloadJobArgs {
  kind: ArtifactKind;
  name: string;
  url: string;
  format: string;
}

/**
 * One download of an artifact's source URL. A download that fails or does not parse leaves the
 * stored version in force and records why on the artifact (shown by list/show, and the job fails
 * with the same reason); the same bytes again only mark the artifact refreshed.
 */
export function artifactDownloadJob(clock: Clock, opts: { timeoutMs?: number } = {}): JobHandler {
  return async (job, store) => {
    const a = job.args as Partial<DownloadJobArgs>;
    if (!a.kind || !a.name || !a.url || !a.format) throw new Error('artifact-download needs args.kind, name, url and format');
    const input = { kind: a.kind, name: a.name, url: a.url, format: a.format };
    try {
      const bytes = await downloadBytes(input.url, opts);
      const stored = await storeArtifact(store, clock, { ...input, bytes, source: `url:${input.url}` });
      await store.audit.record(`job:${job.id}`, 'artifact.download', `${input.kind}:${input.name}`, {
        sha256: stored.artifact.sha256,
        changed: stored.changed,
        version: stored.artifact.version,
      });
      return { sha256: stored.artifact.sha256, size: stored.artifact.size, version: stored.artifact.version, changed: stored.changed };
    } catch (err) {
      const message = `download of ${input.url} failed: ${(err as Error).message}`;
      await artifactsOf(store, clock).recordError(input.kind, input.name, message);
      forgetArtifactCatalog(store);
      throw new Error(message);
    }
  };
}
