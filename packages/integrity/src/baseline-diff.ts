import { type AttributeMask, maskIncludes } from './attribute-mask.ts';
import { type AttrValue, type Entity, type EntityKind, entityId } from './entity.ts';
import type { IntegrityRuleSet, Severity } from './integrity-rule-set.ts';

export type ChangeKind = 'created' | 'updated' | 'deleted' | 'renamed';

export interface AttributeChange {
  name: string;
  before: AttrValue;
  after: AttrValue;
}

export interface Change {
  change: ChangeKind;
  kind: EntityKind;
  key: string;
  /** Old path of a rename. */
  from?: string;
  rule: string;
  severity: Severity;
  attributes: AttributeChange[];
  /** Facts worth an alert of their own, e.g. `setid-added` for a new SUID/SGID file. */
  flags: string[];
  /** Full attributes of a created (after) or deleted (before) entity, for the report. */
  before?: Record<string, AttrValue>;
  after?: Record<string, AttrValue>;
}

const SETID = 0o6000;

function same(a: AttrValue, b: AttrValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/** Attribute differences under a mask. An attribute one side lacks (not readable, hash not asked) is not a change. */
export function compareAttributes(before: Entity, after: Entity, mask: AttributeMask, ignore?: ReadonlySet<string>): AttributeChange[] {
  // Hot path of a re-scan (one call per unchanged file): no intermediate arrays, sort only hits.
  let out: AttributeChange[] | undefined;
  const a = before.attrs;
  const b = after.attrs;
  for (const name in b) {
    if (!(name in a)) continue;
    if (ignore?.has(name) || !maskIncludes(mask, name)) continue;
    const x = a[name]!;
    const y = b[name]!;
    if (x === y || x === undefined || y === undefined || same(x, y)) continue;
    if (name === 'size' && mask.growingSize && typeof x === 'number' && typeof y === 'number' && y >= x) continue;
    (out ??= []).push({ name, before: x, after: y });
  }
  return out ? out.sort((p, q) => (p.name < q.name ? -1 : 1)) : [];
}

function setidAdded(before: Entity | undefined, after: Entity): boolean {
  if (after.kind !== 'file') return false;
  const now = Number(after.attrs.mode ?? 0) & SETID;
  const was = before ? Number(before.attrs.mode ?? 0) & SETID : 0;
  return (now & ~was) !== 0;
}

function renameKey(e: Entity): string | undefined {
  const { dev, inode, type } = e.attrs;
  return e.kind === 'file' && inode !== undefined && type !== undefined ? `${dev}:${inode}:${type}` : undefined;
}

/**
 * A rename keeps the inode. Inode numbers are reused quickly on ext4, so a matching inode alone is
 * not enough: the content must agree too (hash when both have one, else size and mtime).
 */
function sameContent(a: Entity, b: Entity): boolean {
  if (a.attrs.sha256 !== undefined && b.attrs.sha256 !== undefined) return a.attrs.sha256 === b.attrs.sha256;
  if (a.attrs.type === 'dir') return true;
  return a.attrs.size === b.attrs.size && a.attrs.mtime === b.attrs.mtime && a.attrs.target === b.attrs.target;
}

/**
 * Computes the changes between a baseline and a new scan, with masks and severities from the
 * rules. Entities no rule claims any more (a rule removed or narrowed) are not reported as
 * deleted: they are simply no longer monitored.
 */
export function diffEntities(before: Iterable<Entity>, after: Iterable<Entity>, rules: IntegrityRuleSet): Change[] {
  const old = new Map<string, Entity>();
  for (const e of before) old.set(entityId(e), e);
  const changes: Change[] = [];
  const created: Entity[] = [];
  for (const e of after) {
    const id = entityId(e);
    const prev = old.get(id);
    // Matched entities leave the map: what remains at the end was deleted.
    if (prev !== undefined) old.delete(id);
    // A scanner hands back the baseline's own object for an entity it found unchanged.
    if (prev === e) continue;
    const rule = rules.byId.get(e.rule);
    if (!rule) continue;
    if (!prev) {
      created.push(e);
      continue;
    }
    const attributes = compareAttributes(prev, e, rule.mask);
    const flags = setidAdded(prev, e) && maskIncludes(rule.mask, 'mode') ? ['setid-added'] : [];
    if (attributes.length)
      changes.push({ change: 'updated', kind: e.kind, key: e.key, rule: rule.id, severity: rule.severity, attributes, flags });
  }
  const deleted = new Map<string, Entity>();
  const deletedNoInode: Entity[] = [];
  for (const e of old.values()) {
    if (!stillMonitored(e, rules)) continue;
    const rk = renameKey(e);
    if (rk && !deleted.has(rk)) deleted.set(rk, e);
    else deletedNoInode.push(e);
  }
  for (const e of created) {
    const rule = rules.byId.get(e.rule)!;
    const rk = renameKey(e);
    const prev = rk ? deleted.get(rk) : undefined;
    if (prev && sameContent(prev, e)) {
      deleted.delete(rk!);
      const attributes = compareAttributes(prev, e, rule.mask, new Set(['ctime']));
      const flags = setidAdded(prev, e) ? ['setid-added'] : [];
      changes.push({
        change: 'renamed',
        kind: e.kind,
        key: e.key,
        from: prev.key,
        rule: rule.id,
        severity: rule.severity,
        attributes,
        flags,
      });
      continue;
    }
    const flags = setidAdded(undefined, e) ? ['setid-added'] : [];
    changes.push({
      change: 'created',
      kind: e.kind,
      key: e.key,
      rule: rule.id,
      severity: rule.severity,
      attributes: [],
      flags,
      after: e.attrs,
    });
  }
  for (const e of [...deleted.values(), ...deletedNoInode]) {
    const rule = rules.byId.get(e.rule) ?? (e.kind === 'file' ? rules.ruleForPath(e.key, undefined) : undefined);
    changes.push({
      change: 'deleted',
      kind: e.kind,
      key: e.key,
      rule: rule?.id ?? e.rule,
      severity: rule?.severity ?? 'medium',
      attributes: [],
      flags: [],
      before: e.attrs,
    });
  }
  return changes.sort((a, b) => (a.kind === b.kind ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.kind < b.kind ? -1 : 1));
}

function stillMonitored(e: Entity, rules: IntegrityRuleSet): boolean {
  if (e.kind !== 'file') return rules.byId.has(e.rule);
  const modeBits = Number(e.attrs.mode ?? 0);
  const typeBits = e.attrs.type === 'dir' ? 0o040000 : 0o100000;
  return rules.ruleForPath(e.key, modeBits | typeBits, e.attrs.type === 'dir') !== undefined;
}

export interface ChangeSummary {
  created: number;
  updated: number;
  deleted: number;
  renamed: number;
  bySeverity: Record<Severity, number>;
}

export function summarizeChanges(changes: readonly Change[]): ChangeSummary {
  const s: ChangeSummary = { created: 0, updated: 0, deleted: 0, renamed: 0, bySeverity: { low: 0, medium: 0, high: 0, critical: 0 } };
  for (const c of changes) {
    s[c.change]++;
    s.bySeverity[c.severity]++;
  }
  return s;
}
