/** Palisade's event severities (the same names as @palisade/protocol's SEVERITIES). */
export type LogSeverity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/**
 * Maps an OSSEC/Wazuh rule level (0..16) to a Palisade severity. The bands follow the Wazuh
 * level table: 0-2 ignored/informational, 3-5 successful or low-relevance events, 6-9 errors
 * and attacks worth a look, 10-12 high importance (correlated attacks, brute force), 13+ attacks
 * very likely to have succeeded.
 */
export function severityOfLevel(level: number): LogSeverity {
  if (level <= 2) return 'info';
  if (level <= 5) return 'low';
  if (level <= 9) return 'medium';
  if (level <= 12) return 'high';
  return 'critical';
}
