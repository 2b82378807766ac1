import { Gunzip, Inflate } from 'fflate';

export interface ArchiveLimits {
  /** Nesting depth: 0 scans no archive members at all. */
  maxDepth: number;
  /** Largest member we unpack; bigger ones are reported and skipped. */
  maxMemberSize: number;
  /** Total bytes unpacked from one top-level file, over every level. */
  maxTotalSize: number;
  /** Members per archive. */
  maxMembers: number;
  /** Uncompressed/compressed ratio above which a member is treated as a bomb. */
  maxRatio: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxDepth: 17,
  maxMemberSize: 100 * 1024 * 1024,
  maxTotalSize: 400 * 1024 * 1024,
  maxMembers: 10_000,
  maxRatio: 1_000,
};

export type ArchiveFormat = 'zip' | 'tar' | 'gzip';

export interface ArchiveMember {
  name: string;
  data: Uint8Array;
}

export interface ArchiveProblem {
  code:
    | 'SIG_ARCHIVE_BOMB'
    | 'SIG_ARCHIVE_TOO_DEEP'
    | 'SIG_ARCHIVE_TOO_LARGE'
    | 'SIG_ARCHIVE_TOO_MANY_MEMBERS'
    | 'SIG_ARCHIVE_CORRUPT'
    | 'SIG_ARCHIVE_ENCRYPTED'
    | 'SIG_ARCHIVE_UNSUPPORTED';
  message: string;
  member?: string;
}

/** Tracks bytes unpacked from one top-level file across all nesting levels. */
export class UnpackBudget {
  used = 0;
  constructor(readonly limits: ArchiveLimits) {}

  /** Largest member size still allowed at this point. */
  get remaining(): number {
    return Math.min(this.limits.maxMemberSize, this.limits.maxTotalSize - this.used);
  }
}

class LimitExceeded extends Error {}

export function archiveFormatOf(buf: Uint8Array): ArchiveFormat | undefined {
  if (buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5) && (buf[3] === 4 || buf[3] === 6)) return 'zip';
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (buf.length >= 263 && isTarHeader(buf)) return 'tar';
  return undefined;
}

function isTarHeader(buf: Uint8Array): boolean {
  const magic = String.fromCharCode(...buf.subarray(257, 262));
  if (magic === 'ustar') return true;
  // Old (v7) tar has no magic: accept when the header checksum is right.
  const stored = parseOctal(buf.subarray(148, 156));
  if (stored === undefined || buf.length < 512) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : buf[i]!;
  return sum === stored && buf[0] !== 0;
}

function parseOctal(b: Uint8Array): number | undefined {
  const s = String.fromCharCode(...b).replace(/\0.*$/s, '').trim();
  if (s === '' || !/^[0-7]+$/.test(s)) return undefined;
  return parseInt(s, 8);
}

/**
 * Unpacks one archive level. Sizes are enforced while inflating (not from the headers, which
 * a hostile archive can fake), so a zip bomb costs at most the budget, never the memory.
 */
export function unpackArchive(
  buf: Uint8Array,
  format: ArchiveFormat,
  budget: UnpackBudget,
): { members: ArchiveMember[]; problems: ArchiveProblem[] } {
  switch (format) {
    case 'gzip':
      return unpackGzip(buf, budget);
    case 'tar':
      return unpackTar(buf, budget);
    case 'zip':
      return unpackZip(buf, budget);
  }
}

function inflateBounded(
  data: Uint8Array,
  kind: 'gzip' | 'deflate',
  budget: UnpackBudget,
): { data: Uint8Array } | { problem: 'bomb' | 'large' | 'corrupt'; message: string } {
  const cap = budget.remaining;
  const ratioCap = Math.max(1024 * 1024, data.length * budget.limits.maxRatio);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const onData = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > cap || total > ratioCap) throw new LimitExceeded();
    chunks.push(chunk);
  };
  try {
    const s = kind === 'gzip' ? new Gunzip(onData) : new Inflate(onData);
    // Push small slices: deflate expands at most ~1032x, so one slice can never produce more
    // than a few MB before the size check above runs.
    const step = 4 * 1024;
    for (let i = 0; i < data.length; i += step) s.push(data.subarray(i, Math.min(data.length, i + step)), i + step >= data.length);
    if (data.length === 0) s.push(new Uint8Array(0), true);
  } catch (e) {
    if (e instanceof LimitExceeded) {
      return total > ratioCap
        ? { problem: 'bomb', message: `expands more than ${budget.limits.maxRatio}x (stopped at ${total} bytes)` }
        : { problem: 'large', message: `expands beyond the ${cap}-byte limit` };
    }
    return { problem: 'corrupt', message: (e as Error).message };
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  budget.used += total;
  return { data: out };
}

function problemOf(r: { problem: 'bomb' | 'large' | 'corrupt'; message: string }, member: string): ArchiveProblem {
  const code = r.problem === 'bomb' ? 'SIG_ARCHIVE_BOMB' : r.problem === 'large' ? 'SIG_ARCHIVE_TOO_LARGE' : 'SIG_ARCHIVE_CORRUPT';
  return { code, message: r.message, member };
}

function unpackGzip(buf: Uint8Array, budget: UnpackBudget): { members: ArchiveMember[]; problems: ArchiveProblem[] } {
  const r = inflateBounded(buf, 'gzip', budget);
  if ('problem' in r) return { members: [], problems: [problemOf(r, '(gzip content)')] };
  return { members: [{ name: gzipName(buf) ?? '(gzip content)', data: r.data }], problems: [] };
}

/** The original file name stored in the gzip header, when present (FNAME flag). */
function gzipName(buf: Uint8Array): string | undefined {
  if (buf.length < 10 || (buf[3]! & 0x08) === 0) return undefined;
  let i = 10;
  if (buf[3]! & 0x04) i += 2 + (buf[10]! | (buf[11]! << 8));
  const start = i;
  while (i < buf.length && buf[i] !== 0) i++;
  return new TextDecoder('latin1').decode(buf.subarray(start, i));
}

function unpackTar(buf: Uint8Array, budget: UnpackBudget): { members: ArchiveMember[]; problems: ArchiveProblem[] } {
  const members: ArchiveMember[] = [];
  const problems: ArchiveProblem[] = [];
  const dec = new TextDecoder('latin1');
  let longName: string | undefined;
  for (let off = 0; off + 512 <= buf.length; ) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseOctal(h.subarray(124, 136));
    let name = longName ?? dec.decode(h.subarray(0, 100)).replace(/\0.*$/s, '');
    longName = undefined;
    const prefix = dec.decode(h.subarray(345, 500)).replace(/\0.*$/s, '');
    if (prefix && dec.decode(h.subarray(257, 262)) === 'ustar') name = `${prefix}/${name}`;
    if (size === undefined || off + 512 + size > buf.length) {
      problems.push({ code: 'SIG_ARCHIVE_CORRUPT', message: 'truncated tar entry', member: name });
      break;
    }
    const type = h[156]!;
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 0x4c) {
      longName = dec.decode(data).replace(/\0.*$/s, '');
      continue;
    }
    if (type !== 0 && type !== 0x30 && type !== 0x37) continue;
    if (members.length >= budget.limits.maxMembers) {
      problems.push({ code: 'SIG_ARCHIVE_TOO_MANY_MEMBERS', message: `more than ${budget.limits.maxMembers} members` });
      break;
    }
    if (size > budget.remaining) {
      problems.push({ code: 'SIG_ARCHIVE_TOO_LARGE', message: `member of ${size} bytes is above the limit`, member: name });
      continue;
    }
    budget.used += size;
    members.push({ name, data });
  }
  return { members, problems };
}

function unpackZip(buf: Uint8Array, budget: UnpackBudget): { members: ArchiveMember[]; problems: ArchiveProblem[] } {
  const members: ArchiveMember[] = [];
  const problems: ArchiveProblem[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder('utf-8');
  // Entries come from the central directory when there is one; otherwise (truncated or
  // streamed archives) from walking the local headers, as ClamAV does.
  const entries: { name: string; method: number; flags: number; csize: number; local: number }[] = [];
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd >= 0) {
    const count = dv.getUint16(eocd + 10, true);
    let p = dv.getUint32(eocd + 16, true);
    for (let k = 0; k < count; k++) {
      if (p + 46 > buf.length || dv.getUint32(p, true) !== 0x02014b50) {
        problems.push({ code: 'SIG_ARCHIVE_CORRUPT', message: 'bad central directory entry' });
        break;
      }
      const nameLen = dv.getUint16(p + 28, true);
      entries.push({
        flags: dv.getUint16(p + 8, true),
        method: dv.getUint16(p + 10, true),
        csize: dv.getUint32(p + 20, true),
        local: dv.getUint32(p + 42, true),
        name: dec.decode(buf.subarray(p + 46, p + 46 + nameLen)),
      });
      p += 46 + nameLen + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
    }
  } else {
    for (let p = 0; p + 30 <= buf.length && dv.getUint32(p, true) === 0x04034b50; ) {
      const nameLen = dv.getUint16(p + 26, true);
      const csize = dv.getUint32(p + 18, true);
      const flags = dv.getUint16(p + 6, true);
      entries.push({ flags, method: dv.getUint16(p + 8, true), csize, local: p, name: dec.decode(buf.subarray(p + 30, p + 30 + nameLen)) });
      if (flags & 0x08) break; // sizes follow the data: cannot walk further without inflating
      p += 30 + nameLen + dv.getUint16(p + 28, true) + csize;
    }
  }
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    if (members.length >= budget.limits.maxMembers) {
      problems.push({ code: 'SIG_ARCHIVE_TOO_MANY_MEMBERS', message: `more than ${budget.limits.maxMembers} members` });
      break;
    }
    if (e.flags & 1) {
      problems.push({ code: 'SIG_ARCHIVE_ENCRYPTED', message: 'encrypted member not scanned', member: e.name });
      continue;
    }
    if (e.local + 30 > buf.length || dv.getUint32(e.local, true) !== 0x04034b50) {
      problems.push({ code: 'SIG_ARCHIVE_CORRUPT', message: 'bad local header', member: e.name });
      continue;
    }
    const start = e.local + 30 + dv.getUint16(e.local + 26, true) + dv.getUint16(e.local + 28, true);
    const csize = e.csize === 0xffffffff ? -1 : e.csize;
    if (csize < 0) {
      problems.push({ code: 'SIG_ARCHIVE_UNSUPPORTED', message: 'ZIP64 members are not supported', member: e.name });
      continue;
    }
    const data = buf.subarray(start, Math.min(buf.length, start + csize));
    if (e.method === 0) {
      if (data.length > budget.remaining) {
        problems.push({ code: 'SIG_ARCHIVE_TOO_LARGE', message: `member of ${data.length} bytes is above the limit`, member: e.name });
        continue;
      }
      budget.used += data.length;
      members.push({ name: e.name, data });
    } else if (e.method === 8) {
      const r = inflateBounded(data, 'deflate', budget);
      if ('problem' in r) problems.push(problemOf(r, e.name));
      else members.push({ name: e.name, data: r.data });
    } else {
      problems.push({ code: 'SIG_ARCHIVE_UNSUPPORTED', message: `compression method ${e.method} is not supported`, member: e.name });
    }
  }
  return { members, problems };
}
