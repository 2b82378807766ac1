import type { ParsedEntities } from './account-entities.ts';
import type { Entity } from './entity.ts';

/** One file found under a systemd unit directory (relative names keep `x.wants/` prefixes). */
export interface UnitDirEntry {
  /** The unit directory, e.g. `/etc/systemd/system`, in priority order of the caller's list. */
  dir: string;
  /** Path below `dir`: `sshd.service` or `multi-user.target.wants/sshd.service`. */
  name: string;
  /** Link target when the entry is a symlink. */
  target?: string;
  sha256?: string;
}

const UNIT = /\.(service|socket|timer|path)$/;

/**
 * Services and their enablement from a listing of the unit directories: a unit is `enabled` when a
 * `.wants/` or `.requires/` link names it (or its template), `masked` when linked to /dev/null,
 * otherwise `disabled`. The first directory in the list wins, like systemd's unit path order.
 */
export function serviceEntities(entries: readonly UnitDirEntry[], dirOrder: readonly string[], rule: string): ParsedEntities {
  const rank = (d: string) => {
    const i = dirOrder.indexOf(d);
    return i < 0 ? dirOrder.length : i;
  };
  const units = new Map<string, UnitDirEntry>();
  const enabled = new Set<string>();
  const masked = new Set<string>();
  for (const e of entries) {
    const slash = e.name.indexOf('/');
    if (slash >= 0) {
      if (/\.(wants|requires)$/.test(e.name.slice(0, slash))) {
        const unit = e.name.slice(slash + 1);
        enabled.add(unit);
        enabled.add(unit.replace(/@[^.]*\./, '@.'));
      }
      continue;
    }
    if (!UNIT.test(e.name)) continue;
    if (e.target === '/dev/null') {
      masked.add(e.name);
      continue;
    }
    const prev = units.get(e.name);
    if (!prev || rank(e.dir) < rank(prev.dir)) units.set(e.name, e);
  }
  const entities: Entity[] = [];
  for (const name of new Set([...units.keys(), ...masked])) {
    const u = units.get(name);
    const state = masked.has(name) ? 'masked' : enabled.has(name) ? 'enabled' : 'disabled';
    const attrs: Entity['attrs'] = { enabled: state, path: u ? `${u.dir}/${u.name}` : '/dev/null', source: u?.target ?? null };
    if (u?.sha256) attrs.sha256 = u.sha256;
    entities.push({ kind: 'service', key: name, rule, attrs });
  }
  return { entities: entities.sort((a, b) => (a.key < b.key ? -1 : 1)), diagnostics: [] };
}
