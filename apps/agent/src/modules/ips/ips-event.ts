import type { MatchedRule } from '@palisade/seclang';

export type IpsAction = 'blocked' | 'detected' | 'fail-open' | 'fail-closed';

/** One detection as the proxy/middleware sees it, before aggregation. */
export interface IpsDetection {
  service: string;
  action: IpsAction;
  ruleId: number;
  cves: string[];
  msg: string;
  peerAddress: string;
  clientAddress: string;
  requestLine: string;
  matchedData: string;
  status?: number;
}

/** Cookies and credentials never leave the host in an event, even when a rule matched them. */
export function redactMatched(name: string, value: string, maxLength: number): string {
  const n = name.toLowerCase();
  if (n.startsWith('request_cookies:') || /^request_headers:(?:cookie|authorization|proxy-authorization|x-api-key|x-auth-token)$/.test(n))
    return `${name}=[redacted ${value.length} bytes]`;
  const v = value.length > maxLength ? `${value.slice(0, maxLength)}…(+${value.length - maxLength})` : value;
  return `${name}=${v}`;
}

export function cvesOf(rule: MatchedRule): string[] {
  return rule.tags.filter((t) => /^CVE-\d{4}-\d+$/.test(t));
}

/** The rule that decided, or the first matched rule that logs, with redacted matched data. */
export function describeMatch(
  rules: readonly MatchedRule[],
  decidingId: number,
  maxLength = 200,
): { ruleId: number; msg: string; cves: string[]; matchedData: string } {
  const r =
    rules.find((m) => m.id === decidingId) ?? rules.find((m) => m.log && m.disruptive !== 'pass') ?? rules.find((m) => m.log) ?? rules[0];
  if (!r) return { ruleId: decidingId, msg: '', cves: [], matchedData: '' };
  const data = r.matchedVariables
    .slice(0, 3)
    .map((v) => redactMatched(v.name, v.value, maxLength))
    .join('; ');
  // CRS puts the matched data into the blocking rule's logdata; the scored rules hold the CVE-less detail.
  return {
    ruleId: r.id,
    msg: r.msg,
    cves: cvesOf(r),
    matchedData: data || (r.logdata.length > maxLength ? `${r.logdata.slice(0, maxLength)}…` : r.logdata),
  };
}
