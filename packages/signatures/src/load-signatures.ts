import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import { emptyClamavDatabase, parseClamavFile } from './clamav-database.ts';
import { unpackCvd } from './cvd-container.ts';
import { SignatureEngine } from './signature-engine.ts';
import { parseYara } from './yara-parser.ts';
import type { YaraRule } from './yara-rule.ts';

export interface SignatureSources {
  /** ClamAV database files by name (`x.ndb`, `x.hdb`, ...) or containers (`x.cvd`, `x.cld`). */
  clamav?: { name: string; bytes: Uint8Array }[];
  /** YARA rule files. */
  yara?: { name: string; text: string }[];
}

export interface LoadOptions {
  /** Load what is valid and report the rest as warnings (policy `skip-invalid`); default refuses all. */
  skipInvalid?: boolean;
}

const latin1 = new TextDecoder('latin1');

/**
 * Builds one engine from ClamAV databases and YARA rules. Every problem is reported with its
 * file and line; by default any error refuses the whole set, so a half-loaded database never
 * silently scans with fewer signatures than its owner believes.
 */
export function loadSignatures(src: SignatureSources, opts: LoadOptions = {}): LoadResult<SignatureEngine> {
  const diags: Diagnostic[] = [];
  const db = emptyClamavDatabase();
  for (const f of src.clamav ?? []) {
    const ext = f.name.slice(f.name.lastIndexOf('.') + 1).toLowerCase();
    if (ext === 'cvd' || ext === 'cld') {
      const r = unpackCvd(f.bytes, f.name);
      if (!r.ok) {
        diags.push(...r.diagnostics);
        continue;
      }
      for (const inner of r.files) {
        const iext = inner.name.slice(inner.name.lastIndexOf('.') + 1).toLowerCase();
        // Containers carry many formats (.info, .cdb, .pdb, ...); only the ones we read are used.
        if (!['hdb', 'hsb', 'mdb', 'msb', 'ndb', 'ldb', 'fp', 'sfp', 'ign', 'ign2'].includes(iext)) {
          diags.push({ code: 'SIG_CLAMAV_FORMAT_SKIPPED', message: `${inner.name}: format ".${iext}" is not supported and was skipped`, severity: 'warning', file: f.name });
          continue;
        }
        diags.push(...parseClamavFile({ name: `${f.name}/${inner.name}`, text: inner.text }, db));
      }
      continue;
    }
    diags.push(...parseClamavFile({ name: f.name, text: latin1.decode(f.bytes) }, db));
  }
  const rules: YaraRule[] = [];
  const known = new Set<string>();
  for (const y of src.yara ?? []) {
    const r = parseYara(y.text, y.name, known);
    for (const rule of r.rules) known.add(rule.name);
    rules.push(...r.rules);
    diags.push(...r.diagnostics);
  }
  const engine = new SignatureEngine(db, rules);
  if (opts.skipInvalid) {
    return loadResult(engine, diags.map((d) => (d.severity === 'error' ? { ...d, severity: 'warning' as const } : d)));
  }
  return loadResult(engine, diags);
}
