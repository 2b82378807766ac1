/**
 * Risk of a destination, in the commercial module's vocabulary. `safe` is what an allow list
 * says; `untested` is what nobody has rated (or a feed explicitly marks as unrated).
 */
export type Risk = 'dangerous' | 'highly suspicious' | 'suspicious' | 'untested' | 'safe';
export const RISKS: readonly Risk[] = ['dangerous', 'highly suspicious', 'suspicious', 'untested', 'safe'];

/** High blocks suspicious and worse; Medium blocks highly suspicious and worse; Low blocks dangerous. */
export type SecurityLevel = 'high' | 'medium' | 'low';
export const SECURITY_LEVELS: readonly SecurityLevel[] = ['high', 'medium', 'low'];

export const RISK_RANK: Readonly<Record<Risk, number>> = {
  dangerous: 4,
  'highly suspicious': 3,
  suspicious: 2,
  untested: 1,
  safe: 0,
};

const THRESHOLD: Readonly<Record<SecurityLevel, number>> = { high: 2, medium: 3, low: 4 };

export function blocksAt(level: SecurityLevel, risk: Risk, blockUntested: boolean): boolean {
  if (risk === 'untested') return blockUntested;
  return RISK_RANK[risk] >= THRESHOLD[level];
}

/** Accepts the spellings feeds use: `highly suspicious`, `highly-suspicious`, `highly_suspicious`. */
export function parseRisk(text: string): Risk | undefined {
  const t = text.trim().toLowerCase().replace(/[-_]+/g, ' ');
  return (RISKS as readonly string[]).includes(t) ? (t as Risk) : undefined;
}
