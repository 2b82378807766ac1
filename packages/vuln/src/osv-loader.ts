import { type Diagnostic, LineIndex } from '@palisade/diagnostics';
import { unzipSync } from 'fflate';
import { Compile } from 'typebox/compile';
import { jsonErrorOffset } from './json-error-offset.ts';
import { type OsvRecord, OsvRecordSchema } from './osv-schema.ts';

const validator = Compile(OsvRecordSchema);

export interface OsvLoadOutcome {
  records: OsvRecord[];
  diagnostics: Diagnostic[];
  /** Inputs refused as a whole (bad JSON, schema violation); each has an error diagnostic. */
  skipped: number;
}

function jsonErrorPosition(text: string): { line?: number; column?: number } {
  const at = jsonErrorOffset(text);
  return at === undefined ? {} : new LineIndex(text).position(at);
}

/**
 * Parses one OSV document. Records are all-or-nothing: a record that breaks the schema is
 * refused whole (a half-read advisory could silently under-report), but one bad record never
 * stops the rest of a feed from loading — the caller gets an error diagnostic and goes on.
 * A file may hold one record or a JSON array of records (osv.dev query responses).
 */
export function parseOsvDocument(text: string, file: string): OsvLoadOutcome {
  const out: OsvLoadOutcome = { records: [], diagnostics: [], skipped: 0 };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    out.skipped++;
    out.diagnostics.push({
      code: 'VULN_OSV_JSON',
      severity: 'error',
      message: `not valid JSON: ${(err as Error).message}`,
      file,
      ...jsonErrorPosition(text),
    });
    return out;
  }
  const list = Array.isArray(value) ? value : [value];
  list.forEach((item, i) => {
    if (validator.Check(item)) {
      out.records.push(item);
      return;
    }
    out.skipped++;
    const errors = validator.Errors(item).slice(0, 3);
    const where = Array.isArray(value) ? `[${i}]` : '';
    const id = typeof (item as { id?: unknown })?.id === 'string' ? ` (${(item as { id: string }).id})` : '';
    out.diagnostics.push({
      code: 'VULN_OSV_SCHEMA',
      severity: 'error',
      message: `record${where}${id} is not OSV 1.x: ${errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`,
      file,
    });
  });
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads an OSV `all.zip` (as published per ecosystem at osv-vulnerabilities.storage.googleapis.com)
 * or any zip of OSV JSON files. Non-JSON entries are ignored; a corrupt archive is one error.
 */
export function loadOsvZip(bytes: Uint8Array, file: string): OsvLoadOutcome {
  const out: OsvLoadOutcome = { records: [], diagnostics: [], skipped: 0 };
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (f) => f.name.toLowerCase().endsWith('.json') });
  } catch (err) {
    out.skipped++;
    out.diagnostics.push({ code: 'VULN_OSV_ZIP', severity: 'error', message: `cannot read zip archive: ${(err as Error).message}`, file });
    return out;
  }
  for (const [name, data] of Object.entries(entries)) {
    const one = parseOsvDocument(decoder.decode(data), `${file}!${name}`);
    for (const r of one.records) out.records.push(r);
    for (const d of one.diagnostics) out.diagnostics.push(d);
    out.skipped += one.skipped;
  }
  return out;
}

/** Dispatches on content: zip archives by their magic bytes, everything else as JSON. */
export function loadOsvBytes(bytes: Uint8Array, file: string): OsvLoadOutcome {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return loadOsvZip(bytes, file);
  }
  return parseOsvDocument(decoder.decode(bytes), file);
}
