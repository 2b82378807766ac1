type Json = Record<string, unknown>;

/** The `only` list of `ruleSets.patches` in an IPS settings JSON text (undefined: not selected by id). */
export function selectedPatches(jsonText: string): string[] | undefined {
  try {
    const s = (jsonText.trim() ? JSON.parse(jsonText) : {}) as Json;
    const only = ((s.ruleSets as Json | undefined)?.patches as Json | undefined)?.only;
    return Array.isArray(only) ? only.map(String) : undefined;
  } catch {
    return undefined;
  }
}

/** The same settings text with `ruleSets.patches.only` set to `ids` (other settings untouched). */
export function withPatches(jsonText: string, ids: string[]): string {
  const s = (jsonText.trim() ? JSON.parse(jsonText) : {}) as Json;
  const ruleSets = { ...((s.ruleSets as Json | undefined) ?? {}) };
  ruleSets.patches = { ...((ruleSets.patches as Json | undefined) ?? {}), only: [...ids].sort() };
  return JSON.stringify({ ...s, ruleSets }, null, 2);
}
