import { BlockList, isIP } from 'node:net';
import { type Static, type TSchema, Type } from 'typebox';

/**
 * A smart folder is a saved query over computer attributes, evaluated when the folder is listed
 * so that it always shows the computers that match now.
 */
export const SMART_FOLDER_FIELDS = ['hostname', 'platform', 'policy', 'status', 'group', 'agentVersion', 'ip'] as const;
export const SMART_FOLDER_OPS = ['equals', 'notEquals', 'contains', 'notContains', 'anyValue', 'inCidr'] as const;

const ConditionSchema = Type.Object(
  {
    /** One of SMART_FOLDER_FIELDS, or `tag:<key>` for a cloud or user tag. */
    field: Type.String({ pattern: '^(hostname|platform|policy|status|group|agentVersion|ip|tag:.{1,128})$' }),
    op: Type.Enum(SMART_FOLDER_OPS),
    value: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type SmartFolderCondition = Static<typeof ConditionSchema>;

export type SmartFolderQuery = { all: SmartFolderNode[] } | { any: SmartFolderNode[] };
export type SmartFolderNode = SmartFolderCondition | SmartFolderQuery;

// Nested AND/OR groups, three levels deep: enough for any console query builder.
const nodeAt = (depth: number): TSchema =>
  depth === 0
    ? ConditionSchema
    : Type.Union([
        ConditionSchema,
        Type.Object({ all: Type.Array(nodeAt(depth - 1), { maxItems: 50 }) }, { additionalProperties: false }),
        Type.Object({ any: Type.Array(nodeAt(depth - 1), { maxItems: 50 }) }, { additionalProperties: false }),
      ]);
export const SmartFolderQuerySchema = Type.Union([
  Type.Object({ all: Type.Array(nodeAt(3), { maxItems: 50 }) }, { additionalProperties: false }),
  Type.Object({ any: Type.Array(nodeAt(3), { maxItems: 50 }) }, { additionalProperties: false }),
]);

/** The attributes a query can see, flattened from a computer record. */
export interface QueryableComputer {
  hostname: string;
  platform: string;
  policy: string | null;
  status: string;
  group: string | null;
  agentVersion: string;
  ips: string[];
  tags: Record<string, string>;
}

function valuesOf(c: QueryableComputer, field: string): string[] {
  if (field.startsWith('tag:')) {
    const v = c.tags[field.slice(4)];
    return v === undefined ? [] : [v];
  }
  switch (field) {
    case 'ip':
      return c.ips;
    case 'policy':
    case 'group': {
      const v = c[field];
      return v === null ? [] : [v];
    }
    default:
      return [String(c[field as keyof QueryableComputer] ?? '')];
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const family = isIP(base ?? '');
  if (!family || family !== isIP(ip)) return false;
  const list = new BlockList();
  const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
  list.addSubnet(base!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function matchCondition(c: QueryableComputer, cond: SmartFolderCondition): boolean | undefined {
  const values = valuesOf(c, cond.field);
  const want = (cond.value ?? '').toLowerCase();
  switch (cond.op) {
    case 'anyValue':
      return values.some((v) => v !== '');
    case 'equals':
      return values.some((v) => v.toLowerCase() === want);
    case 'notEquals':
      return !values.some((v) => v.toLowerCase() === want);
    case 'contains':
      return values.some((v) => v.toLowerCase().includes(want));
    case 'notContains':
      return !values.some((v) => v.toLowerCase().includes(want));
    case 'inCidr':
      return values.some((v) => inCidr(v, cond.value ?? ''));
  }
}

export function matchesQuery(c: QueryableComputer, node: SmartFolderNode): boolean {
  if ('all' in node) return node.all.every((n) => matchesQuery(c, n));
  if ('any' in node) return node.any.some((n) => matchesQuery(c, n));
  return matchCondition(c, node) === true;
}

/** Checks what JSON Schema cannot: CIDR values parse. Returns the offending path or undefined. */
export function invalidCidrPath(node: SmartFolderNode, path = '/query'): string | undefined {
  if ('all' in node || 'any' in node) {
    const list = 'all' in node ? node.all : node.any;
    const key = 'all' in node ? 'all' : 'any';
    for (let i = 0; i < list.length; i++) {
      const bad = invalidCidrPath(list[i]!, `${path}/${key}/${i}`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (node.op !== 'inCidr') return undefined;
  const [base, bits] = (node.value ?? '').split('/');
  const family = isIP(base ?? '');
  const max = family === 4 ? 32 : 128;
  const ok = family !== 0 && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max));
  return ok ? undefined : `${path}/value`;
}
