import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface AssignedLogSources {
  files: { path: string; format: 'syslog' | 'json' | 'raw' }[];
  journaldUnits: string[];
  /** Assigned ids this agent's rules do not know (a manager newer than the agent). */
  unknown: string[];
}

const FORMATS = new Set(['syslog', 'json', 'raw']);

/**
 * The log sources that rules assigned by recommendation scans ask for
 * (`rules/log/apps/<id>/meta.yaml`, shipped with the agent): assigning `nginx` makes the module
 * read nginx's logs. Paths that do not exist on this host are simply never read.
 */
export function assignedLogSources(ids: readonly string[], rulesDir: string): AssignedLogSources {
  const out: AssignedLogSources = { files: [], journaldUnits: [], unknown: [] };
  for (const id of ids) {
    const file = join(rulesDir, 'apps', id, 'meta.yaml');
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id) || !existsSync(file)) {
      out.unknown.push(id);
      continue;
    }
    const meta = parse(readFileSync(file, 'utf8')) as {
      sources?: { files?: { path?: unknown; format?: unknown }[]; journaldUnits?: unknown[] };
    };
    for (const f of meta.sources?.files ?? []) {
      if (typeof f.path !== 'string' || out.files.some((x) => x.path === f.path)) continue;
      out.files.push({ path: f.path, format: FORMATS.has(String(f.format)) ? (f.format as 'syslog' | 'json' | 'raw') : 'syslog' });
    }
    for (const u of meta.sources?.journaldUnits ?? [])
      if (typeof u === 'string' && !out.journaldUnits.includes(u)) out.journaldUnits.push(u);
  }
  return out;
}
