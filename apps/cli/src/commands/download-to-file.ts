import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError } from './output.ts';

export interface Downloaded {
  url: string;
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * Streams a URL to a file in `dir` (never whole in memory: OSV's all.zip files are hundreds of
 * MB), keeping the URL's file name so the format is recognised by its extension. A non-2xx
 * answer or a broken transfer is an error with the URL in it; nothing half-written is imported.
 */
export async function downloadToFile(url: string, dir: string, onBytes?: (n: number) => void): Promise<Downloaded> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError('CLI_BAD_URL', `not a URL: ${url}`, 2);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new CliError('CLI_BAD_URL', `only http(s) URLs: ${url}`, 2);
  let res: Response;
  try {
    res = await fetch(parsed, { redirect: 'follow' });
  } catch (err) {
    throw new CliError('DOWNLOAD_FAILED', `${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new CliError('DOWNLOAD_FAILED', `${url}: HTTP ${res.status} ${res.statusText}`);
  const name = basename(parsed.pathname) || 'download.json';
  const file = join(dir, name);
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hash.update(chunk);
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as never), count, createWriteStream(file));
  } catch (err) {
    throw new CliError('DOWNLOAD_FAILED', `${url}: transfer broken after ${bytes} bytes: ${(err as Error).message}`);
  }
  return { url, file, bytes, sha256: hash.digest('hex') };
}
