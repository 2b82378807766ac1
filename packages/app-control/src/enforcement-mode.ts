import type { Verdict } from './app-control-policy.ts';

/**
 * off: nothing runs. detect: every verdict is only reported. block-unrecognized: only allowed
 * software runs. block-explicit: only explicitly blocked software is stopped (unknown is drift).
 */
export const APP_CONTROL_MODES = ['off', 'detect', 'block-unrecognized', 'block-explicit'] as const;
export type AppControlMode = (typeof APP_CONTROL_MODES)[number];

export interface Enforcement {
  /** Refuse the exec/open. */
  deny: boolean;
  /** Record drift / emit an event. */
  report: boolean;
  /** Add the content to the baseline (maintenance mode). */
  learn: boolean;
}

/**
 * What to do with one verdict. Maintenance lets unknown software in and learns it, but an
 * explicit block still blocks: maintenance is for patching, not for bypassing the block list.
 */
export function enforcementFor(mode: AppControlMode, verdict: Verdict, maintenance: boolean): Enforcement {
  if (mode === 'off' || verdict === 'allow') return { deny: false, report: false, learn: false };
  if (verdict === 'unknown' && maintenance) return { deny: false, report: false, learn: true };
  const deny =
    (mode === 'block-unrecognized' && (verdict === 'unknown' || verdict === 'block')) || (mode === 'block-explicit' && verdict === 'block');
  return { deny, report: true, learn: false };
}
