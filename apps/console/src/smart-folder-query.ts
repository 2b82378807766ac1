/** The manager's smart-folder query: nested AND (`all`) / OR (`any`) groups of conditions. */
export interface Condition {
  field: string;
  op: string;
  value?: string;
}
export type Group = { all: Node[] } | { any: Node[] };
export type Node = Condition | Group;

export const isGroup = (n: Node): n is Group => 'all' in n || 'any' in n;
export const itemsOf = (g: Group): Node[] => ('all' in g ? g.all : g.any);
export const withItems = (g: Group, items: Node[]): Group => ('all' in g ? { all: items } : { any: items });

/** The query as the API wants it: empty groups dropped, `anyValue` without a value. */
export function cleanQuery(g: Group): Group {
  const items = itemsOf(g)
    .map((n) =>
      isGroup(n) ? cleanQuery(n) : n.op === 'anyValue' ? { field: n.field, op: n.op } : { field: n.field, op: n.op, value: n.value ?? '' },
    )
    .filter((n) => !isGroup(n) || itemsOf(n).length > 0);
  return withItems(g, items);
}
