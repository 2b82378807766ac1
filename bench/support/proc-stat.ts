import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
export const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in clock ticks; every thread counts. */
export function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** The direct children of a process (nginx: the master's workers). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Processes whose command name is `comm` (e.g. every PostgreSQL backend). */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm) out.push(Number(p));
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

/** CPU seconds used so far by these processes together; one that ended meanwhile counts 0. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      ticks += cpuTicks(p);
    } catch {
      // ended meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}
