import type { Event } from '@palisade/api-client';

/**
 * Whether an event stands for something the platform stopped or only saw. Modules say so in
 * `details.action` (IPS: blocked/detected, firewall: deny/log, anti-malware: quarantined, …); an
 * event without an action was only observed.
 */
export function outcomeOf(e: Pick<Event, 'details' | 'type'>): 'blocked' | 'detected' {
  const action = String(e.details?.action ?? e.type ?? '').toLowerCase();
  return /block|deny|drop|reject|quarantin|prevent|fail-closed|kill/.test(action) ? 'blocked' : 'detected';
}

/** CVE ids an event names: IPS events list them in `details.cves`, others in their text. */
export function cvesOf(e: Pick<Event, 'details' | 'message' | 'ruleId'>): string[] {
  const fromDetails = Array.isArray(e.details?.cves) ? (e.details.cves as unknown[]).map(String) : [];
  const fromText = `${e.message} ${e.ruleId ?? ''}`.match(/CVE-\d{4}-\d{4,}/g) ?? [];
  return [...new Set([...fromDetails, ...fromText])];
}
