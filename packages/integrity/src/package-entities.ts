import type { ParsedEntities } from './account-entities.ts';
import type { Entity } from './entity.ts';

/** Installed packages from dpkg's status file; half-removed packages are kept with their status. */
export function dpkgPackageEntities(status: string, rule: string): ParsedEntities {
  const entities: Entity[] = [];
  for (const para of status.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of para.split('\n')) {
      const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1]!.toLowerCase(), m[2]!);
    }
    const name = fields.get('package');
    const st = fields.get('status') ?? '';
    if (!name || st.endsWith('not-installed') || st.endsWith('config-files')) continue;
    const arch = fields.get('architecture') ?? 'all';
    entities.push({ kind: 'package', key: `${name}:${arch}`, rule, attrs: { version: fields.get('version') ?? '', arch, status: st } });
  }
  return { entities, diagnostics: [] };
}

/** Loaded kernel modules from /proc/modules text. */
export function kernelModuleEntities(text: string, rule: string): ParsedEntities {
  const entities: Entity[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[0] === '') continue;
    entities.push({ kind: 'kernel-module', key: f[0]!, rule, attrs: { size: Number(f[1]), state: f[4]! } });
  }
  return { entities, diagnostics: [] };
}
