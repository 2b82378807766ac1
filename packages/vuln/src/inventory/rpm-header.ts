import type { RpmPackage } from './rpm-packages.ts';

const TAG_NAME = 1000;
const TAG_VERSION = 1001;
const TAG_RELEASE = 1002;
const TAG_EPOCH = 1003;
const TAG_ARCH = 1022;
const TAG_SOURCERPM = 1044;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

/**
 * Reads NEVRA and the source rpm from one rpm header blob, as stored in `rpmdb.sqlite`
 * (`Packages.blob`) and in the other rpmdb backends: a big-endian index count and data size,
 * 16-byte index entries (tag, type, offset, count), then the data store. Returns undefined
 * for a blob that is truncated or lacks a name or version, rather than guessing.
 */
export function parseRpmHeader(blob: Uint8Array): RpmPackage | undefined {
  if (blob.length < 8) return undefined;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const il = view.getUint32(0);
  const dl = view.getUint32(4);
  const dataStart = 8 + il * 16;
  if (il > 100_000 || dataStart + dl > blob.length) return undefined;
  const decoder = new TextDecoder();
  const str = (offset: number): string | undefined => {
    const start = dataStart + offset;
    if (offset < 0 || start >= dataStart + dl) return undefined;
    const end = blob.indexOf(0, start);
    return decoder.decode(blob.subarray(start, end < 0 ? dataStart + dl : end));
  };
  const values = new Map<number, string>();
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = view.getUint32(e);
    const type = view.getUint32(e + 4);
    const offset = view.getInt32(e + 8);
    if (![TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_ARCH, TAG_SOURCERPM].includes(tag)) continue;
    if (type === TYPE_INT32) {
      if (dataStart + offset + 4 <= dataStart + dl) values.set(tag, String(view.getInt32(dataStart + offset)));
    } else if (type === TYPE_STRING || type === TYPE_STRING_ARRAY || type === TYPE_I18NSTRING) {
      const s = str(offset);
      if (s !== undefined) values.set(tag, s);
    }
  }
  const name = values.get(TAG_NAME);
  const version = values.get(TAG_VERSION);
  if (!name || !version) return undefined;
  return {
    name,
    version,
    release: values.get(TAG_RELEASE) ?? '',
    epoch: values.get(TAG_EPOCH),
    arch: values.get(TAG_ARCH),
    sourceRpm: values.get(TAG_SOURCERPM),
  };
}

/** Builds a header blob (the inverse of parseRpmHeader), for tests and fixtures. */
export function buildRpmHeader(pkg: RpmPackage): Uint8Array {
  const enc = new TextEncoder();
  const entries: { tag: number; type: number; data: Uint8Array }[] = [];
  const s = (tag: number, v?: string) => v !== undefined && entries.push({ tag, type: TYPE_STRING, data: enc.encode(`${v}\0`) });
  s(TAG_NAME, pkg.name);
  s(TAG_VERSION, pkg.version);
  s(TAG_RELEASE, pkg.release);
  if (pkg.epoch !== undefined) {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setInt32(0, Number(pkg.epoch));
    entries.unshift({ tag: TAG_EPOCH, type: TYPE_INT32, data: d });
  }
  s(TAG_ARCH, pkg.arch);
  s(TAG_SOURCERPM, pkg.sourceRpm);
  const dl = entries.reduce((n, e) => n + e.data.length, 0);
  const out = new Uint8Array(8 + entries.length * 16 + dl);
  const view = new DataView(out.buffer);
  view.setUint32(0, entries.length);
  view.setUint32(4, dl);
  let offset = 0;
  entries.forEach((e, i) => {
    view.setUint32(8 + i * 16, e.tag);
    view.setUint32(8 + i * 16 + 4, e.type);
    view.setInt32(8 + i * 16 + 8, offset);
    view.setUint32(8 + i * 16 + 12, 1);
    out.set(e.data, 8 + entries.length * 16 + offset);
    offset += e.data.length;
  });
  return out;
}
