/** path -> sha256 of every inventoried file. */
export type InventoryMap = ReadonlyMap<string, string>;

export interface InventoryDiff {
  added: { path: string; sha256: string }[];
  changed: { path: string; before: string; sha256: string }[];
  removed: { path: string; sha256: string }[];
}

/** What changed between two inventories: maintenance mode learns `added` and `changed`. */
export function diffInventory(before: InventoryMap, after: InventoryMap): InventoryDiff {
  const diff: InventoryDiff = { added: [], changed: [], removed: [] };
  for (const [path, sha256] of after) {
    const old = before.get(path);
    if (old === undefined) diff.added.push({ path, sha256 });
    else if (old !== sha256) diff.changed.push({ path, before: old, sha256 });
  }
  for (const [path, sha256] of before) if (!after.has(path)) diff.removed.push({ path, sha256 });
  return diff;
}
