/**
 * What integrity monitoring compares. Every monitored thing (a file, a local user, a listening
 * port, ...) is an entity with a stable key and flat attributes, so one diff covers all kinds
 * and a baseline stores them in one table.
 */
export type EntityKind = 'file' | 'user' | 'group' | 'package' | 'port' | 'service' | 'kernel-module' | 'cron';

export type AttrValue = string | number | boolean | null | readonly string[];

export interface Entity {
  kind: EntityKind;
  /** Unique within its kind: the path for files, the name for users, `tcp/0.0.0.0:22` for ports. */
  key: string;
  /** Id of the rule that selected the entity; the diff takes mask and severity from it. */
  rule: string;
  attrs: Record<string, AttrValue>;
}

export type FileType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown';

/** Map key that makes `file:/etc/passwd` and `user:root` distinct. */
export function entityId(e: Pick<Entity, 'kind' | 'key'>): string {
  return `${e.kind}:${e.key}`;
}
