import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { SignatureSources } from '@palisade/signatures';

const CLAMAV_EXT = new Set(['hdb', 'hsb', 'mdb', 'msb', 'ndb', 'ldb', 'fp', 'sfp', 'ign', 'ign2', 'cvd', 'cld']);
const YARA_EXT = new Set(['yar', 'yara']);

/**
 * Reads ClamAV databases and YARA rules from files or folders (a folder contributes every file
 * with a known extension, sorted, like a mirrored ClamAV database directory).
 */
export async function loadSignatureSources(dbPaths: string[], yaraPaths: string[]): Promise<SignatureSources> {
  const clamav: NonNullable<SignatureSources['clamav']> = [];
  const yara: NonNullable<SignatureSources['yara']> = [];
  for (const p of dbPaths) {
    for (const f of await expand(p, CLAMAV_EXT)) clamav.push({ name: f, bytes: await readFile(f) });
  }
  for (const p of yaraPaths) {
    for (const f of await expand(p, YARA_EXT)) yara.push({ name: f, text: await readFile(f, 'utf8') });
  }
  return { clamav, yara };
}

async function expand(p: string, exts: Set<string>): Promise<string[]> {
  const st = await stat(p);
  if (!st.isDirectory()) return [p];
  const names = (await readdir(p)).sort();
  return names.filter((n) => exts.has(extname(n).slice(1).toLowerCase())).map((n) => join(p, n));
}
