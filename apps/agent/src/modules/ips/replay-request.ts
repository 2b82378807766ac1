/** One HTTP request of a fixture or a replayed template, as bytes-faithful strings. */
export interface ReplayRequest {
  id?: string;
  method: string;
  /** Request target exactly as sent (path and query, percent-encoding untouched). */
  uri: string;
  headers: [string, string][];
  body: string;
}

/**
 * Parses a fixture file in the replay JSONL format, one `{"id","method","uri","headers","body"}`
 * per line; `headers` is an object (or a list of pairs when a name repeats).
 */
export function parseReplayJsonl(text: string, file: string): { requests: ReplayRequest[]; errors: string[] } {
  const requests: ReplayRequest[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      errors.push(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
      return;
    }
    if (typeof o.method !== 'string' || typeof o.uri !== 'string' || !o.uri.startsWith('/')) {
      errors.push(`${file}:${i + 1}: method and uri (starting with /) are required`);
      return;
    }
    const h = o.headers ?? {};
    let headers: [string, string][];
    if (Array.isArray(h)) headers = h.map((p) => [String((p as unknown[])[0]), String((p as unknown[])[1])]);
    else if (typeof h === 'object' && h !== null) headers = Object.entries(h).map(([k, v]) => [k, String(v)]);
    else {
      errors.push(`${file}:${i + 1}: headers must be an object`);
      return;
    }
    if (o.body !== undefined && typeof o.body !== 'string') {
      errors.push(`${file}:${i + 1}: body must be a string`);
      return;
    }
    requests.push({
      id: typeof o.id === 'string' ? o.id : `${file}:${i + 1}`,
      method: o.method,
      uri: o.uri,
      headers,
      body: (o.body as string | undefined) ?? '',
    });
  });
  return { requests, errors };
}
