import type { Severity } from '@palisade/protocol';

/**
 * One table for every format, so the same event has the same weight in every SIEM. CEF and LEEF
 * both use 0-10; syslog uses RFC 5424 severities (lower is worse).
 */
export const SEVERITY_MAPPING: Record<Severity, { cef: number; leef: number; syslog: number; sns: number; label: string }> = {
  info: { cef: 1, leef: 1, syslog: 6, sns: 0, label: 'Info' },
  low: { cef: 3, leef: 3, syslog: 5, sns: 1, label: 'Low' },
  medium: { cef: 5, leef: 5, syslog: 4, sns: 2, label: 'Medium' },
  high: { cef: 8, leef: 8, syslog: 3, sns: 3, label: 'High' },
  critical: { cef: 10, leef: 10, syslog: 2, sns: 4, label: 'Critical' },
};
