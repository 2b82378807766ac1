import type { EntityKind } from './entity.ts';

/**
 * Which attributes a rule compares. `all` stands for "every attribute the entity has", which is
 * what the non-file kinds use: a user has no mtime to ignore. `growingSize` implements the
 * Tripwire/AIDE "growing" semantic for logs: a bigger size is expected, a smaller one is not.
 */
export interface AttributeMask {
  all: boolean;
  attrs: ReadonlySet<string>;
  /** Removed from `all` (only meaningful when `all` is set). */
  without: ReadonlySet<string>;
  growingSize: boolean;
}

/** Attributes a file entity can carry; mask expressions are checked against this list. */
export const FILE_ATTRIBUTES = [
  'type',
  'mode',
  'uid',
  'gid',
  'user',
  'group',
  'size',
  'inode',
  'dev',
  'nlink',
  'mtime',
  'ctime',
  'target',
  'xattrs',
  'acl',
  'caps',
  'sha256',
  'sha512',
] as const;

export const HASH_ATTRIBUTES = ['sha256', 'sha512'] as const;
export type HashAlgorithm = (typeof HASH_ATTRIBUTES)[number];

/** Attributes of the other kinds, so that custom masks on them can be validated too. */
export const OTHER_ATTRIBUTES: Record<Exclude<EntityKind, 'file'>, readonly string[]> = {
  user: ['uid', 'gid', 'gecos', 'home', 'shell', 'password', 'lastchg', 'min', 'max', 'warn', 'inactive', 'expire'],
  group: ['gid', 'members'],
  package: ['version', 'arch', 'status'],
  port: ['proto', 'address', 'port', 'uid'],
  service: ['path', 'enabled', 'sha256', 'source'],
  'kernel-module': ['size', 'state'],
  cron: ['file', 'user', 'schedule', 'command'],
};

const readOnlyFile = [
  'type',
  'mode',
  'uid',
  'gid',
  'user',
  'group',
  'size',
  'inode',
  'dev',
  'nlink',
  'mtime',
  'target',
  'xattrs',
  'acl',
  'caps',
  'sha256',
  'sha512',
];
const dynamicFile = ['type', 'mode', 'uid', 'gid', 'user', 'group', 'inode', 'dev', 'target', 'xattrs', 'acl', 'caps'];

function mask(attrs: readonly string[], extra: Partial<AttributeMask> = {}): AttributeMask {
  return { all: false, attrs: new Set(attrs), without: new Set(), growingSize: false, ...extra };
}

/**
 * Built-in masks, named after Tripwire's property masks because operators know them:
 * ReadOnly for binaries and config (everything but access and change time), Dynamic for files
 * whose content legitimately changes, Growing for append-only logs, IgnoreAll for presence only.
 */
export const BUILTIN_MASKS: ReadonlyMap<string, AttributeMask> = new Map([
  ['IgnoreNone', { all: true, attrs: new Set<string>(), without: new Set<string>(), growingSize: false }],
  ['ReadOnly', mask(readOnlyFile)],
  ['Dynamic', mask(dynamicFile)],
  ['Growing', mask([...dynamicFile, 'size'], { growingSize: true })],
  ['IgnoreAll', mask([])],
  ['Permissions', mask(['type', 'mode', 'uid', 'gid', 'user', 'group', 'acl', 'caps', 'xattrs'])],
  ['Content', mask(['type', 'size', 'sha256', 'sha512', 'target'])],
]);

export function maskIncludes(m: AttributeMask, attr: string): boolean {
  return m.all ? !m.without.has(attr) : m.attrs.has(attr);
}

export function maskNeedsHash(m: AttributeMask): boolean {
  return HASH_ATTRIBUTES.some((h) => maskIncludes(m, h));
}

export interface MaskParseError {
  message: string;
  /** Offset inside the expression, for a precise diagnostic column. */
  offset: number;
}

const knownAttributes = new Set<string>([...FILE_ATTRIBUTES, ...Object.values(OTHER_ATTRIBUTES).flat(), 'growing']);

/**
 * Parses `ReadOnly -mtime +sha512` or `mode+uid+gid`: a base (a mask name or an attribute), then
 * attributes or masks added with `+` and removed with `-`. `growing` turns on the growing-size
 * semantic. Names are looked up in `custom` first so a rule file can build masks on masks.
 */
export function parseMaskExpression(
  expr: string,
  custom: ReadonlyMap<string, AttributeMask> = new Map(),
): { mask: AttributeMask } | { error: MaskParseError } {
  const tokens = [...expr.matchAll(/([+-]?)\s*([A-Za-z][A-Za-z0-9_]*)|(\S)/g)];
  if (tokens.length === 0) return { error: { message: 'empty mask expression', offset: 0 } };
  let all = false;
  const attrs = new Set<string>();
  const without = new Set<string>();
  let growingSize = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const offset = t.index ?? 0;
    if (t[3] !== undefined) return { error: { message: `unexpected '${t[3]}' in mask expression`, offset } };
    const sign = t[1] === '-' ? '-' : '+';
    const name = t[2]!;
    const named = custom.get(name) ?? BUILTIN_MASKS.get(name);
    if (named) {
      if (sign === '+') {
        if (named.all) all = true;
        for (const a of named.attrs) attrs.add(a);
        if (named.growingSize) growingSize = true;
      } else {
        for (const a of named.attrs) {
          attrs.delete(a);
          without.add(a);
        }
      }
      continue;
    }
    if (!knownAttributes.has(name)) {
      return { error: { message: `unknown attribute or mask '${name}'`, offset: offset + t[1]!.length } };
    }
    if (name === 'growing') {
      growingSize = sign === '+';
      if (growingSize) attrs.add('size');
      continue;
    }
    if (sign === '+') {
      attrs.add(name);
      without.delete(name);
    } else {
      attrs.delete(name);
      without.add(name);
    }
  }
  return { mask: { all, attrs, without, growingSize } };
}
