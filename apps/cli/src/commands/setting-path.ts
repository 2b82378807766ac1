/**
 * `key.sub=value` assignments for `policies set`: the value is JSON when it parses as JSON
 * (numbers, booleans, arrays), otherwise a string.
 */
export function parseAssignment(text: string): { path: string[]; value: unknown } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`expected key=value, got ${JSON.stringify(text)}`);
  const path = text.slice(0, eq).split('.');
  if (path.some((p) => p === '')) throw new Error(`bad setting path ${JSON.stringify(text.slice(0, eq))}`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {}
  return { path, value };
}

export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = target;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null || Array.isArray(cur[key])) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/** Removes a setting so it is inherited again; empty parents are removed too. */
export function unsetPath(target: Record<string, unknown>, path: string[]): void {
  const parents: Array<[Record<string, unknown>, string]> = [];
  let cur: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (typeof cur !== 'object' || cur === null) return;
    parents.push([cur as Record<string, unknown>, key]);
    cur = (cur as Record<string, unknown>)[key];
  }
  if (typeof cur !== 'object' || cur === null) return;
  delete (cur as Record<string, unknown>)[path[path.length - 1]!];
  for (const [parent, key] of parents.reverse()) {
    const child = parent[key] as Record<string, unknown>;
    if (child && typeof child === 'object' && Object.keys(child).length === 0) delete parent[key];
  }
}
