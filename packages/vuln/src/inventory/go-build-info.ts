import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

// "\xff Go buildinf:" — the marker the Go linker writes before the build information.
const MAGIC = [0xff, 0x20, 0x47, 0x6f, 0x20, 0x62, 0x75, 0x69, 0x6c, 0x64, 0x69, 0x6e, 0x66, 0x3a];

function findMagic(b: Uint8Array): number {
  const first = MAGIC[0]!;
  for (let i = b.indexOf(first); i >= 0 && i + 32 <= b.length; i = b.indexOf(first, i + 1)) {
    let ok = true;
    for (let k = 1; k < MAGIC.length; k++) {
      if (b[i + k] !== MAGIC[k]) {
        ok = false;
        break;
      }
    }
    if (ok) return i;
  }
  return -1;
}

function readVarBytes(b: Uint8Array, pos: number): [Uint8Array, number] | undefined {
  let len = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    if (p >= b.length || shift > 28) return undefined;
    const c = b[p++]!;
    len |= (c & 0x7f) << shift;
    if ((c & 0x80) === 0) break;
    shift += 7;
  }
  if (p + len > b.length) return undefined;
  return [b.subarray(p, p + len), p + len];
}

/**
 * `go1.21.3`, `go1.22rc1`, `go1.20 X:boringcrypto` -> the SemVer spelling the Go vulnerability
 * database uses for `stdlib` (`1.21.3`, `1.22.0-rc.1`, `1.20.0`).
 */
export function goToolchainVersion(v: string): string | undefined {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?/.exec(v);
  if (!m) return undefined;
  return `${m[1]}.${m[2]}.${m[3] ?? '0'}${m[4] ? `-${m[4]}.${m[5]}` : ''}`;
}

function goItem(path: string, version: string, location: string): InventoryItem {
  const slash = path.lastIndexOf('/');
  const purl = slash > 0 ? makePurl('golang', path.slice(0, slash), path.slice(slash + 1), version) : makePurl('golang', undefined, path, version);
  return { ecosystem: 'Go', name: path, version, purl, location };
}

/**
 * Reads module build information from a Go executable (Go 1.18+ inline format only: the
 * older pointer format needs the executable's section tables, which is not cheap). Yields the
 * main module, its dependencies (honouring `=>` replacements) and `stdlib` at the Go version.
 * Returns nothing, without diagnostics, for files that are not Go binaries.
 */
export function parseGoBuildInfo(bytes: Uint8Array, location: string): InventoryParse {
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  const at = findMagic(bytes);
  if (at < 0) return { items, diagnostics };
  const flags = bytes[at + 15]!;
  if ((flags & 0x2) === 0) {
    diagnostics.push({ code: 'VULN_GO_BUILDINFO_OLD', severity: 'warning', message: 'Go binary built before Go 1.18; build info not read', file: location });
    return { items, diagnostics };
  }
  const v = readVarBytes(bytes, at + 32);
  const m = v && readVarBytes(bytes, v[1]);
  if (!v || !m) {
    diagnostics.push({ code: 'VULN_GO_BUILDINFO_CORRUPT', severity: 'warning', message: 'truncated Go build info', file: location });
    return { items, diagnostics };
  }
  const decoder = new TextDecoder();
  const goVersion = goToolchainVersion(decoder.decode(v[0]));
  if (goVersion) items.push(goItem('stdlib', goVersion, location));
  // modinfo is framed by 16 sentinel bytes at each end.
  const modinfo = decoder.decode(m[0].length >= 33 ? m[0].subarray(16, m[0].length - 16) : m[0]);
  let last: InventoryItem | undefined;
  for (const line of modinfo.split('\n')) {
    const f = line.split('\t');
    if ((f[0] === 'mod' || f[0] === 'dep') && f[1] && f[2]) {
      if (f[2] === '(devel)') {
        last = undefined;
        continue;
      }
      last = goItem(f[1], f[2].replace(/^v/, ''), location);
      items.push(last);
    } else if (f[0] === '=>' && last && f[1] && f[2]) {
      const replaced = goItem(f[1], f[2].replace(/^v/, ''), location);
      items[items.indexOf(last)] = replaced;
      last = replaced;
    }
  }
  return { items, diagnostics };
}
