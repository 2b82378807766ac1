import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Detection, detectFileKind, type DigestFn, type FileKind, type SignatureEngine } from '@palisade/signatures';
import {
  type ArchiveLimits,
  type ArchiveProblem,
  archiveFormatOf,
  DEFAULT_ARCHIVE_LIMITS,
  UnpackBudget,
  unpackArchive,
} from './archive-reader.ts';

export interface ScanDetection extends Detection {
  /** Path inside the archive(s), `a.zip!inner/b.tar!c.exe`; absent for the file itself. */
  member?: string;
}

export interface FileScanResult {
  path: string;
  size: number;
  kind: FileKind;
  detections: ScanDetection[];
  /**
   * Archive limits hit, corrupt or encrypted members, signatures out of verification budget
   * (`SIG_SCAN_BUDGET`): the file was not fully inspected.
   */
  problems: { code: ArchiveProblem['code'] | 'SIG_SCAN_BUDGET'; message: string; member?: string; archive?: string }[];
  /** Container formats found but not unpacked (7z, rar, bzip2, OLE2, PDF, ...). */
  notUnpacked: { format: FileKind; member?: string }[];
  allowListed: boolean;
  error?: string;
}

export interface FileScanOptions {
  archives?: boolean;
  limits?: ArchiveLimits;
  /** Scan normalized text as clamscan does by default. */
  normalizeText?: boolean;
}

/** Hashes in the I/O layer; the engine asks for them only when a hash signature has this size. */
export const nodeDigest: DigestFn = (algorithm, data) => createHash(algorithm).update(data).digest('hex');

const OPAQUE_CONTAINERS = new Set<FileKind>(['bzip2', '7z', 'rar', 'cab', 'ole2', 'pdf', 'swf']);

export async function scanFile(engine: SignatureEngine, path: string, opts: FileScanOptions = {}): Promise<FileScanResult> {
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (e) {
    return { path, size: 0, kind: 'binary', detections: [], problems: [], notUnpacked: [], allowListed: false, error: (e as Error).message };
  }
  return scanBytes(engine, data, path, opts);
}

/** Scans one file's bytes and, within the limits, every archive member inside it. */
export function scanBytes(engine: SignatureEngine, data: Uint8Array, path: string, opts: FileScanOptions = {}): FileScanResult {
  const limits = opts.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const budget = new UnpackBudget(limits);
  const result: FileScanResult = {
    path,
    size: data.length,
    kind: detectFileKind(data),
    detections: [],
    problems: [],
    notUnpacked: [],
    allowListed: false,
  };
  const seen = new Set<string>();
  const visit = (buf: Uint8Array, member: string | undefined, depth: number): void => {
    const r = engine.scan(buf, { digest: nodeDigest, normalizeText: opts.normalizeText });
    if (r.allowListed) {
      if (member === undefined) result.allowListed = true;
      return;
    }
    for (const d of r.detections) {
      const key = `${member ?? ''}\0${d.source}\0${d.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.detections.push(member === undefined ? d : { ...d, member });
    }
    if (r.overBudget) {
      result.problems.push({
        code: 'SIG_SCAN_BUDGET',
        message: `verification budget exhausted for ${r.overBudget.slice(0, 5).join(', ')}${r.overBudget.length > 5 ? ', ...' : ''}`,
        ...(member === undefined ? {} : { member }),
      });
    }
    if (OPAQUE_CONTAINERS.has(r.kind)) result.notUnpacked.push(member === undefined ? { format: r.kind } : { format: r.kind, member });
    if (opts.archives === false) return;
    const format = archiveFormatOf(buf);
    if (!format) return;
    if (depth >= limits.maxDepth) {
      result.problems.push({ code: 'SIG_ARCHIVE_TOO_DEEP', message: `nested deeper than ${limits.maxDepth} levels`, archive: member ?? path });
      return;
    }
    const { members, problems } = unpackArchive(buf, format, budget);
    for (const p of problems) result.problems.push({ ...p, archive: member ?? path });
    for (const m of members) visit(m.data, member === undefined ? m.name : `${member}!${m.name}`, depth + 1);
  };
  visit(data, undefined, 0);
  if (result.allowListed) result.detections = [];
  return result;
}
