import type { OsvSeverity } from './osv-schema.ts';

export type SeverityLabel = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

const AV: Record<string, number> = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 };
const AC: Record<string, number> = { L: 0.77, H: 0.44 };
const UI: Record<string, number> = { N: 0.85, R: 0.62 };
const CIA: Record<string, number> = { H: 0.56, L: 0.22, N: 0 };

/** CVSS v3.1 "Roundup": the smallest one-decimal number >= x, robust to floating-point noise. */
function roundUp(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/**
 * Base score of a CVSS 3.0/3.1 vector (`CVSS:3.1/AV:N/AC:L/...`), per the FIRST specification;
 * undefined for anything that is not a complete v3 base vector.
 */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.trim().split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const m = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const [k, v] = p.split(':');
    if (k && v) m.set(k, v);
  }
  const scope = m.get('S');
  const av = AV[m.get('AV') ?? ''];
  const ac = AC[m.get('AC') ?? ''];
  const ui = UI[m.get('UI') ?? ''];
  const c = CIA[m.get('C') ?? ''];
  const i = CIA[m.get('I') ?? ''];
  const a = CIA[m.get('A') ?? ''];
  const prKey = m.get('PR');
  const pr = prKey === 'N' ? 0.85 : prKey === 'L' ? (scope === 'C' ? 0.68 : 0.62) : prKey === 'H' ? (scope === 'C' ? 0.5 : 0.27) : undefined;
  if (scope !== 'U' && scope !== 'C') return undefined;
  if (av === undefined || ac === undefined || ui === undefined || pr === undefined || c === undefined || i === undefined || a === undefined) {
    return undefined;
  }
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return scope === 'U' ? roundUp(Math.min(impact + exploitability, 10)) : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

export function severityLabelOf(score: number): SeverityLabel {
  if (score === 0) return 'NONE';
  if (score < 4) return 'LOW';
  if (score < 7) return 'MEDIUM';
  if (score < 9) return 'HIGH';
  return 'CRITICAL';
}

const LABELS: Record<string, SeverityLabel> = {
  NONE: 'NONE',
  NEGLIGIBLE: 'LOW',
  LOW: 'LOW',
  MODERATE: 'MEDIUM',
  MEDIUM: 'MEDIUM',
  HIGH: 'HIGH',
  IMPORTANT: 'HIGH',
  CRITICAL: 'CRITICAL',
};

/**
 * One severity for a finding: the highest CVSS v3 base score among the entries, else a
 * publisher's label (GHSA `database_specific.severity`, Ubuntu priority, Red Hat "Important").
 * CVSS v4 vectors are not scored here (their scoring needs the full MacroVector tables), so a
 * v4-only record falls back to its label.
 */
export function summarizeSeverity(entries: readonly OsvSeverity[], label?: string): { score?: number; label?: SeverityLabel } {
  let best: number | undefined;
  for (const e of entries) {
    if (e.type !== 'CVSS_V3') continue;
    const s = cvss3BaseScore(e.score);
    if (s !== undefined && (best === undefined || s > best)) best = s;
  }
  if (best !== undefined) return { score: best, label: severityLabelOf(best) };
  const l = label ? LABELS[label.trim().toUpperCase()] : undefined;
  return l ? { label: l } : {};
}
