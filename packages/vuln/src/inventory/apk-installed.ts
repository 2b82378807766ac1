import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

/**
 * Parses `/lib/apk/db/installed`: blank-line separated records of `X:value` lines. `o:` is the
 * origin (source) package, which is what Alpine advisories name (`musl` for `musl-utils`).
 */
export function parseApkInstalled(text: string, file: string, opts: { ecosystem: string; distro?: string }): InventoryParse {
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  let rec = new Map<string, string>();
  let startLine = 1;
  const flush = () => {
    if (rec.size === 0) return;
    const name = rec.get('P');
    const version = rec.get('V');
    if (name && version) {
      const item: InventoryItem = {
        ecosystem: opts.ecosystem,
        name,
        version,
        purl: makePurl('apk', 'alpine', name, version, {
          ...(rec.get('A') ? { arch: rec.get('A')! } : {}),
          ...(opts.distro ? { distro: opts.distro } : {}),
        }),
        location: file,
      };
      const origin = rec.get('o');
      if (origin && origin !== name) {
        item.sourceName = origin;
        item.sourceVersion = version;
      }
      items.push(item);
    } else {
      diagnostics.push({ code: 'VULN_INVENTORY_APK_RECORD', severity: 'warning', message: 'record without P: or V: skipped', file, line: startLine });
    }
    rec = new Map();
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') {
      flush();
      startLine = i + 2;
      continue;
    }
    if (line[1] !== ':') continue;
    // Only the first value of a key matters here; files (F:/R:) repeat and are ignored.
    if (!rec.has(line[0]!)) rec.set(line[0]!, line.slice(2));
  }
  flush();
  return { items, diagnostics };
}
