import type { Diagnostic } from '@palisade/diagnostics';
import type { InventoryItem } from '../inventory-item.ts';
import type { InventoryParse } from './inventory-parse.ts';
import { makePurl } from './make-purl.ts';

/**
 * `composer.lock` (PHP): `packages` and `packages-dev`, each `{name, version}`. Composer writes
 * tags as they are named (`v1.1.3`); the Packagist ordering ignores the `v`, and `dev-*` branch
 * versions cannot be ordered, so they are left out.
 */
export function parseComposerLock(text: string, file: string): InventoryParse {
  const items: InventoryItem[] = [];
  const diagnostics: Diagnostic[] = [];
  let lock: { packages?: unknown; 'packages-dev'?: unknown };
  try {
    lock = JSON.parse(text);
  } catch (err) {
    diagnostics.push({ code: 'VULN_INVENTORY_JSON', severity: 'error', message: `not valid JSON: ${(err as Error).message}`, file });
    return { items, diagnostics };
  }
  for (const list of [lock?.packages, lock?.['packages-dev']]) {
    if (!Array.isArray(list)) continue;
    for (const p of list as { name?: unknown; version?: unknown }[]) {
      if (typeof p?.name !== 'string' || typeof p.version !== 'string' || p.version.startsWith('dev-')) continue;
      const version = p.version.replace(/^v(?=\d)/, '');
      const slash = p.name.indexOf('/');
      const purl = slash > 0 ? makePurl('composer', p.name.slice(0, slash), p.name.slice(slash + 1), version) : makePurl('composer', undefined, p.name, version);
      items.push({ ecosystem: 'Packagist', name: p.name, version, purl, location: file });
    }
  }
  return { items, diagnostics };
}

/**
 * `Gemfile.lock` (Ruby): gems are the 4-space-indented `name (version)` lines of the `specs:`
 * blocks (GEM, GIT, PATH); 6-space lines are their dependency constraints and are skipped.
 * A platform suffix (`1.15.4-x86_64-linux`) is not part of the version.
 */
export function parseGemfileLock(text: string, file: string): InventoryParse {
  const items: InventoryItem[] = [];
  const seen = new Set<string>();
  let inSpecs = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\S/.test(line)) inSpecs = false;
    if (/^ {2}specs:$/.test(line)) {
      inSpecs = true;
      continue;
    }
    if (!inSpecs) continue;
    const m = /^ {4}([^\s(]+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const version = m[2]!.replace(/-(?:x86|x64|arm|aarch64|java|universal|mingw|mswin|darwin|linux)[\w-]*$/, '');
    const key = `${name}@${version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push({ ecosystem: 'RubyGems', name, version, purl: makePurl('gem', undefined, name, version), location: file });
  }
  return { items, diagnostics: [] };
}

/**
 * `Cargo.lock` (Rust): `[[package]]` tables with `name` and `version`. Only packages from a
 * registry `source` are crates.io code; path and git dependencies (no or non-registry source)
 * are the project's own or unversioned and are left out.
 */
export function parseCargoLock(text: string, file: string): InventoryParse {
  const items: InventoryItem[] = [];
  let cur: Record<string, string> | undefined;
  const flush = () => {
    if (cur?.name && cur.version && cur.source?.startsWith('registry+')) {
      items.push({ ecosystem: 'crates.io', name: cur.name, version: cur.version, purl: makePurl('cargo', undefined, cur.name, cur.version), location: file });
    }
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '[[package]]') {
      flush();
      cur = {};
      continue;
    }
    if (line.startsWith('[')) {
      flush();
      cur = undefined;
      continue;
    }
    const m = /^(name|version|source)\s*=\s*"([^"]*)"$/.exec(line);
    if (m && cur) cur[m[1]!] = m[2]!;
  }
  flush();
  return { items, diagnostics: [] };
}
