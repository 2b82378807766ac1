import type { Diagnostic } from '@palisade/diagnostics';
import { parse as parseYaml } from 'yaml';
import type { InventoryItem } from '../inventory-item.ts';
import { npmItem } from './npm-packages.ts';
import type { InventoryParse } from './inventory-parse.ts';

function dedupe(items: InventoryItem[]): InventoryItem[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = `${i.name}@${i.version}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Package name of a yarn descriptor: `@scope/name@^1.0.0`, `name@npm:^1.0.0`, `"name@1"`. */
function descriptorName(descriptor: string): string | undefined {
  const d = descriptor.trim().replace(/^"|"$/g, '');
  const at = d.indexOf('@', d.startsWith('@') ? 1 : 0);
  return at > 0 ? d.slice(0, at) : undefined;
}

/**
 * `yarn.lock`, classic (v1, its own format) and Berry (v2+, YAML). Each entry lists the
 * descriptors it resolves and one `version`. Berry's `workspace:`/`link:`/`patch:` entries are
 * the project's own code or patched copies and are left out.
 */
export function parseYarnLock(text: string, file: string): InventoryParse {
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  if (/^__metadata:/m.test(text)) {
    let doc: Record<string, { version?: unknown; resolution?: unknown }>;
    try {
      doc = parseYaml(text) ?? {};
    } catch (err) {
      diagnostics.push({ code: 'VULN_INVENTORY_YAML', severity: 'error', message: `not valid YAML: ${(err as Error).message}`, file });
      return { items, diagnostics };
    }
    for (const [key, entry] of Object.entries(doc)) {
      if (key === '__metadata' || typeof entry?.version !== 'string') continue;
      const resolution = typeof entry.resolution === 'string' ? entry.resolution : key;
      if (!/@npm:/.test(resolution)) continue;
      const name = descriptorName(key.split(',')[0]!);
      if (name) items.push(npmItem(name, entry.version, file));
    }
    return { items: dedupe(items), diagnostics };
  }
  let names: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith(' ') && line.endsWith(':')) {
      names = [...new Set(line.slice(0, -1).split(',').map(descriptorName).filter((n): n is string => Boolean(n)))];
      continue;
    }
    const m = /^ {2}version "?([^"\s]+)"?$/.exec(line);
    if (m) for (const n of names) items.push(npmItem(n, m[1]!, file));
  }
  return { items: dedupe(items), diagnostics };
}

/**
 * `pnpm-lock.yaml` v5 to v9: the `packages` keys carry name and version (`/lodash/4.17.21`,
 * `/lodash@4.17.21`, `lodash@4.17.21(peer@1.0.0)`).
 */
export function parsePnpmLock(text: string, file: string): InventoryParse {
  const items: InventoryItem[] = [];
  let doc: { packages?: Record<string, unknown> };
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    return { items, diagnostics: [{ code: 'VULN_INVENTORY_YAML', severity: 'error', message: `not valid YAML: ${(err as Error).message}`, file }] };
  }
  for (const key of Object.keys(doc.packages ?? {})) {
    const k = key.replace(/^\//, '').replace(/\(.*$/, '');
    let name: string | undefined;
    let version: string | undefined;
    const at = k.lastIndexOf('@');
    if (at > 0) {
      name = k.slice(0, at);
      version = k.slice(at + 1);
    } else {
      // v5: /name/version or /@scope/name/version
      const slash = k.lastIndexOf('/');
      if (slash > 0) {
        name = k.slice(0, slash);
        version = k.slice(slash + 1);
      }
    }
    if (name && version && /^\d/.test(version)) items.push(npmItem(name, version.replace(/_.*$/, ''), file));
  }
  return { items: dedupe(items), diagnostics: [] };
}
