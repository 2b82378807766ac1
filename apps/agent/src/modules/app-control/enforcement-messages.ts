import type { AppControlMode, Decision, Ruleset } from '@palisade/app-control';
import type { GateMarks, GateStats } from './gate-process.ts';
import type { PackageDatabaseOptions } from './package-database.ts';

/** What the enforcement thread needs to decide on its own, without asking the main thread. */
export interface PolicySnapshot {
  mode: AppControlMode;
  rulesets: Ruleset[];
  globalBlock: string[];
  baseline: string[];
  /** Epoch ms; maintenance is active while Date.now() is below it. */
  maintenanceUntil?: number;
  /** Allow intact package files by origin (and look ownership up for package rules). */
  trustPackages: boolean;
  /**
   * Set while the first inventory of these roots is running: unknown software under them is not
   * reported (the baseline is incomplete, so "unknown" means nothing yet).
   */
  pendingRoots?: string[];
}

export type ToThread =
  | {
      type: 'start';
      marks: GateMarks;
      timeoutMs: number;
      exemptPids: number[];
      binary?: string;
      policy: PolicySnapshot;
      decisionDelayMs?: number;
      packageDatabase?: PackageDatabaseOptions;
    }
  | { type: 'policy'; id: number; policy: PolicySnapshot }
  | { type: 'stats'; id: number }
  | { type: 'stop' };

/** One file that ran (or tried to) and was reported: drift, a block, or a maintenance learn. */
export interface Observation {
  access: 'exec' | 'open';
  pid: number;
  uid: number;
  exe?: string;
  sha256: string;
  path: string;
  decision: Decision;
  /** Package ownership when the thread looked it up (package rules, trust by origin). */
  package?: { manager: 'dpkg' | 'rpm'; name: string; intact: boolean };
  denied: boolean;
  learned: boolean;
  /** Denied from the helper's cache (no new decision was made). */
  cached: boolean;
}

export type FromThread =
  | { type: 'ready'; hashImpl: string; helperPid: number }
  | { type: 'failed'; message: string }
  | { type: 'observation'; observation: Observation }
  | { type: 'timeout'; id: number; path?: string }
  | { type: 'error'; message: string }
  | { type: 'stats'; id: number; stats: GateStats }
  /** The policy with this id is in force in the helper too (its cache cleared). */
  | { type: 'applied'; id: number }
  | { type: 'exited'; code: number | null; signal: string | null };
