import type { ArtifactInfo, ArtifactKind } from '@palisade/protocol';
import { ApiClientError } from './api-client-error.ts';
import { fetchTransport } from './api-transport.ts';
import { PalisadeClient, type PalisadeClientOptions } from './palisade-client.ts';

/** Declared in @palisade/protocol, which the manager shares. */
export type { ArtifactKind };
export type Artifact = ArtifactInfo;

export interface ArtifactDiagnostic {
  code: string;
  message: string;
  severity: string;
  file?: string;
  line?: number;
  column?: number;
}

export interface StoredArtifact {
  artifact: Artifact;
  changed: boolean;
  created: boolean;
  warnings: ArtifactDiagnostic[];
  summary: Record<string, unknown>;
}

export interface ArtifactCheckResult {
  valid: boolean;
  warnings: ArtifactDiagnostic[];
  summary: Record<string, unknown>;
}

export interface ArtifactDownloadSchedule {
  taskId: string;
  url: string;
  cron: string;
  nextRunAt: string | null;
  jobId: string;
}

/** A refused upload: the parser's diagnostics (file:line) come with it. */
export class ArtifactRejectedError extends ApiClientError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly diagnostics: ArtifactDiagnostic[],
  ) {
    super(status, code, message);
  }
}

const BASE: Record<ArtifactKind, string> = { 'signature-set': '/api/v1/signature-sets', 'webrep-feed': '/api/v1/webrep-feeds' };
const enc = encodeURIComponent;

/** Signature sets and web-reputation feeds held by the manager (ADR 0007). */
export class ArtifactClient {
  private readonly api: PalisadeClient;

  constructor(private readonly opts: PalisadeClientOptions) {
    this.api = new PalisadeClient(opts);
  }

  list = (kind: ArtifactKind) => this.api.request<{ artifacts: Artifact[] }>('GET', BASE[kind]);
  get = (kind: ArtifactKind, name: string) =>
    this.api.request<{ artifact: Artifact; usedBy: string[] }>('GET', `${BASE[kind]}/${enc(name)}`);
  delete = (kind: ArtifactKind, name: string) => this.api.request<{ deleted: boolean }>('DELETE', `${BASE[kind]}/${enc(name)}`);
  /** Imports a folder on the manager host (admin); a refusal carries every file's diagnostics. */
  importFolder = (kind: ArtifactKind, path: string) =>
    this.raw<{ imported: StoredArtifact[]; skipped: string[] }>(
      'POST',
      `${BASE[kind]}/import-folder`,
      JSON.stringify({ path }),
      'application/json',
    );
  scheduleDownload = (kind: ArtifactKind, name: string, body: { url: string; cron?: string; timezone?: string; format?: string }) =>
    this.api.request<ArtifactDownloadSchedule>('PUT', `${BASE[kind]}/${enc(name)}/download`, { body });
  unscheduleDownload = (kind: ArtifactKind, name: string) =>
    this.api.request<{ deleted: boolean }>('DELETE', `${BASE[kind]}/${enc(name)}/download`);

  /** Uploads the raw bytes; the manager parses them and refuses a file that does not parse. */
  upload(
    kind: ArtifactKind,
    name: string,
    bytes: Uint8Array,
    opts: { format?: string; description?: string } = {},
  ): Promise<StoredArtifact> {
    return this.put(kind, name, bytes, opts);
  }

  /** Parses without storing: the same checks and diagnostics as an upload. */
  check(kind: ArtifactKind, name: string, bytes: Uint8Array, opts: { format?: string } = {}): Promise<ArtifactCheckResult> {
    return this.put(kind, name, bytes, { ...opts, dryRun: true });
  }

  private put<T>(
    kind: ArtifactKind,
    name: string,
    bytes: Uint8Array,
    opts: { format?: string; description?: string; dryRun?: boolean },
  ): Promise<T> {
    const qs = new URLSearchParams();
    if (opts.format) qs.set('format', opts.format);
    if (opts.description !== undefined) qs.set('description', opts.description);
    if (opts.dryRun) qs.set('dryRun', 'true');
    // Both transports (fetch, node:https) send bytes as they are; the transport type only names strings.
    return this.raw('PUT', `${BASE[kind]}/${enc(name)}${qs.size ? `?${qs}` : ''}`, bytes as unknown as string, 'application/octet-stream');
  }

  private async raw<T>(method: string, path: string, body: string, contentType: string): Promise<T> {
    const transport = this.opts.transport ?? fetchTransport;
    const res = await transport({
      method,
      url: `${this.opts.url.replace(/\/+$/, '')}${path}`,
      headers: { authorization: `Bearer ${this.opts.apiKey}`, accept: 'application/json', 'content-type': contentType },
      body,
    });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {}
    if (res.status >= 400) throw rejected(res.status, parsed, res.body);
    return parsed as T;
  }
}

function rejected(status: number, parsed: unknown, raw: string): ApiClientError {
  const e = (parsed ?? {}) as { code?: string; message?: string; diagnostics?: ArtifactDiagnostic[] };
  return new ArtifactRejectedError(status, e.code ?? `HTTP_${status}`, e.message ?? raw.slice(0, 200), e.diagnostics ?? []);
}
