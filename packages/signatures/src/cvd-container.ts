import type { Diagnostic } from '@palisade/diagnostics';
import { gunzipSync } from 'fflate';
import type { DatabaseFile } from './clamav-database.ts';

export interface CvdHeader {
  buildTime: string;
  version: number;
  signatures: number;
  functionalityLevel: number;
}

/**
 * Reads a `.cvd`/`.cld` container: a 512-byte `ClamAV-VDB:` header followed by a tar archive,
 * gzip-compressed in `.cvd` files. The digital signature in the header is not verified here:
 * distribution integrity is checked by hash before the engine sees the bytes.
 */
export function unpackCvd(
  bytes: Uint8Array,
  name: string,
): { ok: true; header: CvdHeader; files: DatabaseFile[] } | { ok: false; diagnostics: Diagnostic[] } {
  const fail = (message: string) => ({
    ok: false as const,
    diagnostics: [{ code: 'SIG_CVD_INVALID', message, severity: 'error' as const, file: name }],
  });
  if (bytes.length < 512) return fail('shorter than the 512-byte header');
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 512));
  if (!head.startsWith('ClamAV-VDB:')) return fail('missing "ClamAV-VDB:" header');
  const fields = head.replace(/\0+$/, '').trimEnd().split(':');
  const header: CvdHeader = {
    buildTime: fields[1] ?? '',
    version: Number(fields[2] ?? 0),
    signatures: Number(fields[3] ?? 0),
    functionalityLevel: Number(fields[4] ?? 0),
  };
  let body = bytes.subarray(512);
  if (body[0] === 0x1f && body[1] === 0x8b) {
    try {
      body = gunzipSync(body);
    } catch (e) {
      return fail(`gzip body is corrupt: ${(e as Error).message}`);
    }
  }
  const files: DatabaseFile[] = [];
  const dec = new TextDecoder('latin1');
  for (let off = 0; off + 512 <= body.length; ) {
    const h = body.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const fname = dec.decode(h.subarray(0, 100)).replace(/\0.*$/s, '');
    const size = parseInt(dec.decode(h.subarray(124, 136)).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = h[156];
    if (!Number.isFinite(size) || size < 0 || off + 512 + size > body.length) return fail(`tar entry "${fname}" is truncated`);
    if (type === 0 || type === 0x30) files.push({ name: fname, text: dec.decode(body.subarray(off + 512, off + 512 + size)) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return { ok: true, header, files };
}
