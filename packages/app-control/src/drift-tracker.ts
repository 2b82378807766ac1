import type { Decision, Verdict } from './app-control-policy.ts';

export type DriftAccess = 'exec' | 'open' | 'disk';

/** One drift observation: software that is not in the baseline or is blocked, seen running. */
export interface DriftObservation {
  path: string;
  sha256: string;
  decision: Decision;
  denied: boolean;
  /**
   * `exec` = execve; `open` = mapped as a library or run through the dynamic loader; `disk` = found
   * by a disk check (new or changed under the inventory roots, not run yet).
   */
  access: DriftAccess;
  process?: { pid: number; exe?: string };
  user?: { uid: number; name?: string };
}

export interface DriftRecord {
  path: string;
  sha256: string;
  verdict: Verdict;
  source: Decision['source'];
  rulesetId?: string;
  access: DriftAccess;
  /** Blocked at least once. */
  blocked: boolean;
  count: number;
  firstSeen: number;
  lastSeen: number;
  process?: { pid: number; exe?: string };
  user?: { uid: number; name?: string };
}

/**
 * Drift by (path, sha256, access): one record per distinct piece of software at one place and
 * way of running, however often it runs, so a cron job running an unknown script every minute
 * is one line to review, while the same file later pushed through the dynamic loader (an
 * evasion attempt) is a line of its own.
 * Time is passed in (engines have no clock).
 */
export class DriftTracker {
  private readonly records = new Map<string, DriftRecord>();

  constructor(private readonly maxRecords = 10_000) {}

  /** Returns the record and whether it is new (the agent emits an event only for new ones). */
  observe(o: DriftObservation, now: number): { record: DriftRecord; isNew: boolean } {
    const key = `${o.sha256}\0${o.path}\0${o.access}`;
    const known = this.records.get(key);
    if (known) {
      known.count++;
      known.lastSeen = now;
      known.blocked ||= o.denied;
      if (o.process) known.process = o.process;
      if (o.user) known.user = o.user;
      return { record: known, isNew: false };
    }
    if (this.records.size >= this.maxRecords) {
      // The oldest record goes: a flood of unique binaries must not grow memory without bound.
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    const record: DriftRecord = {
      path: o.path,
      sha256: o.sha256,
      verdict: o.decision.verdict,
      source: o.decision.source,
      ...(o.decision.rulesetId ? { rulesetId: o.decision.rulesetId } : {}),
      access: o.access,
      blocked: o.denied,
      count: 1,
      firstSeen: now,
      lastSeen: now,
      ...(o.process ? { process: o.process } : {}),
      ...(o.user ? { user: o.user } : {}),
    };
    this.records.set(key, record);
    return { record, isNew: true };
  }

  /** Drops the records of content that is now allowed (after a review or maintenance). */
  resolve(sha256: string): number {
    let n = 0;
    for (const [k, r] of this.records) {
      if (r.sha256 === sha256) {
        this.records.delete(k);
        n++;
      }
    }
    return n;
  }

  list(): DriftRecord[] {
    return [...this.records.values()];
  }

  get size(): number {
    return this.records.size;
  }
}
