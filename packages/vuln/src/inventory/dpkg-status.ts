import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';
import { parseControlStanzas } from './control-stanzas.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

export interface DpkgStatusOptions {
  /** OSV ecosystem of the host (`Debian:12`, `Ubuntu:22.04:LTS`); from os-release. */
  ecosystem: string;
  /** purl namespace and distro qualifier, e.g. `debian` and `debian-12`. */
  purlNamespace?: string;
  distro?: string;
}

// Package states in which the package's files are on disk (dpkg(1) "package states"): a
// half-configured or trigger-pending package runs the same vulnerable code as an installed one.
const ON_DISK = new Set(['installed', 'half-configured', 'unpacked', 'half-installed', 'triggers-awaited', 'triggers-pending']);

/**
 * Parses `/var/lib/dpkg/status`. Packages count while their files are on disk; removed
 * packages keep a stanza (`deinstall ok config-files`) but no longer expose their code.
 * `Source: name (version)` is kept because Debian advisories name source packages.
 */
export function parseDpkgStatus(text: string, file: string, opts: DpkgStatusOptions): InventoryParse {
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const s of parseControlStanzas(text)) {
    const name = s.fields.get('package');
    const version = s.fields.get('version');
    const status = s.fields.get('status') ?? '';
    if (!name || !version) {
      diagnostics.push({
        code: 'VULN_INVENTORY_DPKG_STANZA',
        severity: 'warning',
        message: 'stanza without Package or Version skipped',
        file,
        line: s.line,
      });
      continue;
    }
    if (!ON_DISK.has(status.split(/\s+/)[2] ?? '')) continue;
    const item: InventoryItem = {
      ecosystem: opts.ecosystem,
      name,
      version,
      purl: makePurl('deb', opts.purlNamespace ?? 'debian', name, version, {
        ...(s.fields.get('architecture') ? { arch: s.fields.get('architecture')! } : {}),
        ...(opts.distro ? { distro: opts.distro } : {}),
      }),
      location: file,
    };
    const source = s.fields.get('source');
    if (source) {
      const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(source);
      if (m) {
        item.sourceName = m[1];
        item.sourceVersion = m[2] ?? version;
      }
    }
    items.push(item);
  }
  return { items, diagnostics };
}
