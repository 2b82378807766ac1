import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FeedOptions, FeedUpdate, ReputationStore } from '@palisade/web-reputation';
import { unzipSync } from 'fflate';

export interface FeedFileResult extends FeedUpdate {
  file: string;
  name: string;
  /** Set when the file could not be read or unpacked at all. */
  error?: string;
}

/**
 * Reads a feed file as downloaded: plain text, gzip, or a zip holding one file (URLhaus ships
 * `csv.zip`). Decoding problems are returned, never thrown, so one bad file does not stop the others.
 */
export function readFeedFile(file: string): { text: string } | { error: string } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    return { error: (err as Error).message };
  }
  try {
    if (buf[0] === 0x1f && buf[1] === 0x8b) return { text: gunzipSync(buf).toString('utf8') };
    if (buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04) {
      const files = Object.values(unzipSync(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
      if (files.length !== 1) return { error: `zip holds ${files.length} files, expected 1` };
      return { text: Buffer.from(files[0]!).toString('utf8') };
    }
  } catch (err) {
    return { error: `cannot unpack: ${(err as Error).message}` };
  }
  return { text: buf.toString('utf8') };
}

/** Loads (or reloads) feed files into a store; each feed is named after its file unless told otherwise. */
export function loadFeedFiles(
  store: ReputationStore,
  files: readonly string[],
  defaults: Omit<FeedOptions, 'name' | 'file'> = {},
): FeedFileResult[] {
  return files.map((file) => {
    const name = basename(file).replace(/\.(gz|zip)$/, '');
    const read = readFeedFile(file);
    if ('error' in read) {
      return {
        file,
        name,
        applied: false,
        entries: 0,
        diagnostics: [{ code: 'WEBREP_FEED_UNREADABLE', message: read.error, severity: 'error', file }],
        error: read.error,
      };
    }
    return { file, name, ...store.updateFeed(read.text, { ...defaults, name, file }) };
  });
}
