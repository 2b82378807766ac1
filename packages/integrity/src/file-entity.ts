import type { HashAlgorithm } from './attribute-mask.ts';
import type { AttrValue, Entity, FileType } from './entity.ts';

/** The subset of `fs.Stats` the model needs; the scanner passes real stats, tests pass literals. */
export interface FileStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  dev: number;
  nlink: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface FileExtras {
  target?: string;
  hashes?: Partial<Record<HashAlgorithm, string>>;
  /** `name=value` strings, sorted; absent when the platform gives no way to read them. */
  xattrs?: readonly string[];
  caps?: string;
  acl?: string;
}

export interface NameLookup {
  user(uid: number): string | undefined;
  group(gid: number): string | undefined;
}

const S_IFMT = 0o170000;
const TYPES: Record<number, FileType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o140000: 'socket',
  0o020000: 'char',
  0o060000: 'block',
};

export function fileTypeOf(mode: number): FileType {
  return TYPES[mode & S_IFMT] ?? 'unknown';
}

/**
 * Builds the file entity. Sizes and times of directories are left out of nothing: a mask decides
 * what is compared, the entity records what was seen.
 */
export function fileEntity(path: string, st: FileStat, rule: string, extras: FileExtras = {}, names?: NameLookup): Entity {
  const attrs: Record<string, AttrValue> = {
    type: fileTypeOf(st.mode),
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    inode: st.ino,
    dev: st.dev,
    nlink: st.nlink,
    mtime: st.mtimeMs,
    ctime: st.ctimeMs,
  };
  const user = names?.user(st.uid);
  const group = names?.group(st.gid);
  if (user !== undefined) attrs.user = user;
  if (group !== undefined) attrs.group = group;
  if (extras.target !== undefined) attrs.target = extras.target;
  if (extras.hashes?.sha256) attrs.sha256 = extras.hashes.sha256;
  if (extras.hashes?.sha512) attrs.sha512 = extras.hashes.sha512;
  if (extras.xattrs) attrs.xattrs = extras.xattrs;
  if (extras.caps !== undefined) attrs.caps = extras.caps;
  if (extras.acl !== undefined) attrs.acl = extras.acl;
  return { kind: 'file', key: path, rule, attrs };
}

/** `-rwsr-xr-x` style rendering, for people reading a change report. */
export function formatMode(type: FileType, mode: number): string {
  const t = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', socket: 's', char: 'c', block: 'b', unknown: '?' }[type];
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  const x = (exec: number, special: number, on: string, off: string) => (mode & special ? (mode & exec ? on : off) : bit(exec, 'x'));
  return (
    t +
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    x(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    x(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    x(0o001, 0o1000, 't', 'T')
  );
}
