import type { Diagnostic } from '@palisade/diagnostics';
import type { AttrValue, Entity } from './entity.ts';

export interface ParsedEntities {
  entities: Entity[];
  diagnostics: Diagnostic[];
}

function lines(text: string): string[] {
  return text.split('\n');
}

function int(s: string | undefined): number | null {
  if (s === undefined || s === '' || !/^-?\d+$/.test(s)) return null;
  return Number(s);
}

/**
 * Users from passwd text, enriched with shadow *metadata*. The shadow hash itself is never kept:
 * a baseline must not become a copy of the password database; only whether a password is set,
 * locked or empty, and the ageing fields, are compared.
 */
export function userEntities(passwd: string, shadow: string | undefined, rule: string, file = '/etc/passwd'): ParsedEntities {
  const diagnostics: Diagnostic[] = [];
  const meta = new Map<string, Record<string, AttrValue>>();
  if (shadow !== undefined) {
    for (const line of lines(shadow)) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const f = line.split(':');
      if (f.length < 2) continue;
      const pw = f[1]!;
      const password = pw === '' ? 'empty' : pw.startsWith('!') || pw.startsWith('*') ? 'locked' : 'set';
      meta.set(f[0]!, {
        password,
        lastchg: int(f[2]),
        min: int(f[3]),
        max: int(f[4]),
        warn: int(f[5]),
        inactive: int(f[6]),
        expire: int(f[7]),
      });
    }
  }
  const entities: Entity[] = [];
  lines(passwd).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const f = line.split(':');
    if (f.length !== 7 || f[0] === '' || int(f[2]) === null || int(f[3]) === null) {
      diagnostics.push({
        code: 'FIM_SOURCE_MALFORMED',
        message: 'malformed passwd line skipped',
        severity: 'warning',
        file,
        line: i + 1,
        column: 1,
      });
      return;
    }
    entities.push({
      kind: 'user',
      key: f[0]!,
      rule,
      attrs: { uid: int(f[2]), gid: int(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]!, ...(meta.get(f[0]!) ?? {}) },
    });
  });
  return { entities, diagnostics };
}

export function groupEntities(group: string, rule: string, file = '/etc/group'): ParsedEntities {
  const diagnostics: Diagnostic[] = [];
  const entities: Entity[] = [];
  lines(group).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const f = line.split(':');
    if (f.length !== 4 || f[0] === '' || int(f[2]) === null) {
      diagnostics.push({
        code: 'FIM_SOURCE_MALFORMED',
        message: 'malformed group line skipped',
        severity: 'warning',
        file,
        line: i + 1,
        column: 1,
      });
      return;
    }
    const members = f[3]!.split(',').filter(Boolean).sort();
    entities.push({ kind: 'group', key: f[0]!, rule, attrs: { gid: int(f[2]), members } });
  });
  return { entities, diagnostics };
}

/** uid/gid -> name maps, so file entities carry owner names like `ls -l` shows them. */
export function idNames(
  passwd: string | undefined,
  group: string | undefined,
): { users: Map<number, string>; groups: Map<number, string> } {
  const users = new Map<number, string>();
  const groups = new Map<number, string>();
  for (const line of lines(passwd ?? '')) {
    const f = line.split(':');
    const id = int(f[2]);
    if (f.length >= 3 && id !== null && !users.has(id)) users.set(id, f[0]!);
  }
  for (const line of lines(group ?? '')) {
    const f = line.split(':');
    const id = int(f[2]);
    if (f.length >= 3 && id !== null && !groups.has(id)) groups.set(id, f[0]!);
  }
  return { users, groups };
}
