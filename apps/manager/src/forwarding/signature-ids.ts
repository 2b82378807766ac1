import type { EventSource } from '@palisade/protocol';

/**
 * Every module owns one block of a million signature ids, so a SIEM can tell the module from the
 * number alone and rules written against an id keep working:
 *   base + 0 ..  base + 999       event types without a numeric rule id (table below, 999 = other)
 *   base + 1000 + ruleId          events of a numeric rule (CRS 942100 -> ips 2943100),
 *                                 for rule ids 0 .. 998999
 */
export const SIGNATURE_BASES: Record<EventSource, number> = {
  system: 1_000_000,
  'anti-malware': 2_000_000,
  ips: 3_000_000,
  firewall: 4_000_000,
  'log-inspection': 5_000_000,
  integrity: 6_000_000,
  'app-control': 7_000_000,
  'web-reputation': 8_000_000,
};

/** Offsets of known event types (the event's `type`); anything else is offset 999. */
export const TYPE_OFFSETS: Record<string, number> = {
  // system
  'forwarder-test': 1,
  'agent.started': 2,
  'agent.stopped': 3,
  'module.error': 4,
  'config.rejected': 5,
  // anti-malware
  'malware.detected': 1,
  'malware.quarantined': 2,
  'malware.cleaned': 3,
  'malware.deleted': 4,
  'malware.scan-completed': 10,
  'malware.scan-failed': 11,
  // ips
  'ips.detected': 1,
  'ips.blocked': 2,
  'ips.error': 3,
  // firewall
  'firewall.deny': 1,
  'firewall.log': 2,
  'firewall.port-scan': 3,
  'firewall.applied': 10,
  'firewall.apply-failed': 11,
  // integrity
  'integrity.changed': 1,
  'integrity.added': 2,
  'integrity.removed': 3,
  'integrity.baseline': 10,
  // app-control
  'app-control.blocked': 1,
  'app-control.drift': 2,
  'app-control.allowed': 3,
  // web reputation
  'web-reputation.blocked': 1,
  'web-reputation.logged': 2,
};

export const OTHER_TYPE_OFFSET = 999;
export const RULE_ID_OFFSET = 1000;
export const MAX_MAPPED_RULE_ID = 998_999;

export function signatureId(module: EventSource, type: string, ruleId?: string): number {
  const base = SIGNATURE_BASES[module] ?? SIGNATURE_BASES.system;
  if (ruleId !== undefined && /^[0-9]{1,6}$/.test(ruleId)) {
    const n = Number(ruleId);
    if (n <= MAX_MAPPED_RULE_ID) return base + RULE_ID_OFFSET + n;
  }
  return base + (TYPE_OFFSETS[type] ?? OTHER_TYPE_OFFSET);
}
