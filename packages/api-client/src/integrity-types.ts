/** Declared in @palisade/protocol (the agent produces them, the manager passes them through). */
export type { IntegrityBaselineSummary, IntegrityContentDiff } from '@palisade/protocol';
