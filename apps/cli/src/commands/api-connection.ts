import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { ApiClientError, PalisadeClient } from '@palisade/api-client';
import { nodeTransport } from '@palisade/api-client/node';

export { nodeTransport };
import { CliError } from './output.ts';

export interface ConnectionOptions {
  url?: string;
  apiKey?: string;
  ca?: string;
  dataDir?: string;
}

/**
 * Where to reach the manager: flags, then PALISADE_URL / PALISADE_API_KEY / PALISADE_CA, then the
 * quickstart's data directory (./data), so commands work right after `npm start`.
 */
export function resolveConnection(opts: ConnectionOptions): { url: string; apiKey: string; caPem: string | undefined } {
  const dataDir = resolve(opts.dataDir ?? process.env.PALISADE_DATA_DIR ?? 'data');
  const readIf = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : undefined);
  const url = opts.url ?? process.env.PALISADE_URL ?? readIf(join(dataDir, 'manager-url'));
  const apiKey = opts.apiKey ?? process.env.PALISADE_API_KEY ?? readIf(join(dataDir, 'admin-api-key'));
  const caFile =
    opts.ca ?? process.env.PALISADE_CA ?? (existsSync(join(dataDir, 'tls', 'ca.pem')) ? join(dataDir, 'tls', 'ca.pem') : undefined);
  if (!url)
    throw new CliError('CLI_NO_MANAGER', 'no manager URL: pass --url, set PALISADE_URL, or run from the folder where `npm start` ran', 2);
  if (!apiKey) throw new CliError('CLI_NO_API_KEY', 'no API key: pass --api-key or set PALISADE_API_KEY', 2);
  if (caFile && !existsSync(caFile)) throw new CliError('CLI_CA_NOT_FOUND', `CA file ${caFile} does not exist`, 2);
  return { url, apiKey, caPem: caFile ? readFileSync(caFile, 'utf8') : undefined };
}

export function clientFrom(cmd: Command<any, any, any>): PalisadeClient {
  const opts = cmd.optsWithGlobals() as ConnectionOptions;
  const { url, apiKey, caPem } = resolveConnection(opts);
  return new PalisadeClient({ url, apiKey, transport: nodeTransport(caPem) });
}

/** Turns API and network failures into CLI errors with the manager's code. */
export async function withApi<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiClientError) throw new CliError(err.code, `${err.message}${err.field ? ` (field ${err.field})` : ''}`);
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') {
      throw new CliError('CLI_MANAGER_UNREACHABLE', `cannot reach the manager: ${(err as Error).message}`);
    }
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
      throw new CliError('CLI_TLS_UNTRUSTED', `the manager's certificate is not trusted (${code}); pass --ca with the manager's CA file`);
    }
    throw err;
  }
}
