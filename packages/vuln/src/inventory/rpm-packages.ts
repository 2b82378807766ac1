import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

/**
 * The `rpm -qa --queryformat` the agent runs (tab-separated so names with dashes stay whole).
 * `(none)` is how rpm prints a missing epoch or source rpm.
 */
export const RPM_QUERYFORMAT = '%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n';

export interface RpmPackage {
  name: string;
  epoch?: string;
  version: string;
  release: string;
  arch?: string;
  sourceRpm?: string;
}

export interface RpmOptions {
  ecosystem: string;
  /** purl namespace: `redhat`, `rocky`, `almalinux`, `opensuse`, ... */
  purlNamespace?: string;
  distro?: string;
}

/** `name-version-release.src.rpm` -> name (name may contain dashes; version and release cannot). */
function sourceNameOf(srpm: string): string | undefined {
  const m = /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(srpm);
  return m?.[1];
}

/** Builds inventory items from rpm header data, whichever way it was read (rpm -qa or rpmdb.sqlite). */
export function rpmItems(pkgs: readonly RpmPackage[], location: string, opts: RpmOptions): InventoryItem[] {
  return pkgs
    .filter((p) => p.name !== 'gpg-pubkey')
    .map((p) => {
      const epoch = p.epoch && p.epoch !== '(none)' && p.epoch !== '0' ? p.epoch : undefined;
      const version = `${epoch ? `${epoch}:` : ''}${p.version}-${p.release}`;
      const item: InventoryItem = {
        ecosystem: opts.ecosystem,
        name: p.name,
        version,
        purl: makePurl('rpm', opts.purlNamespace ?? 'redhat', p.name, `${p.version}-${p.release}`, {
          ...(p.arch && p.arch !== '(none)' ? { arch: p.arch } : {}),
          ...(epoch ? { epoch } : {}),
          ...(opts.distro ? { distro: opts.distro } : {}),
        }),
        location,
      };
      const src = p.sourceRpm && p.sourceRpm !== '(none)' ? sourceNameOf(p.sourceRpm) : undefined;
      if (src && src !== p.name) {
        item.sourceName = src;
        item.sourceVersion = version;
      }
      return item;
    });
}

/** Parses the output of `rpm -qa --queryformat RPM_QUERYFORMAT`. */
export function parseRpmQueryOutput(text: string, file: string, opts: RpmOptions): InventoryParse {
  const pkgs: RpmPackage[] = [];
  const diagnostics: Diagnostic[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const f = line.split('\t');
    if (f.length < 4 || !f[0] || !f[2]) {
      diagnostics.push({ code: 'VULN_INVENTORY_RPM_LINE', severity: 'warning', message: 'line is not NAME\\tEPOCH\\tVERSION\\tRELEASE[\\tARCH\\tSOURCERPM]', file, line: i + 1 });
      return;
    }
    pkgs.push({ name: f[0], epoch: f[1], version: f[2], release: f[3] ?? '', arch: f[4], sourceRpm: f[5] });
  });
  return { items: rpmItems(pkgs, file, opts), diagnostics };
}
