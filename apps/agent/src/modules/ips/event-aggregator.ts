import type { IpsDetection } from './ips-event.ts';

export interface AggregatedDetection extends IpsDetection {
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Identical detections (same service, rule, action, client, request line) within a window become
 * one event with a count, so a scanner hammering one exploit does not flood the spool. The first
 * one of a window is reported at once (a person sees the attack start without waiting); repeats
 * are reported as one aggregate when the window closes. Time is passed in: no clock inside.
 */
export class EventAggregator {
  private readonly open = new Map<string, AggregatedDetection & { reported: number }>();

  constructor(private readonly windowMs: number) {}

  private key(d: IpsDetection): string {
    return `${d.service}\u0000${d.ruleId}\u0000${d.action}\u0000${d.clientAddress}\u0000${d.requestLine}`;
  }

  /** Returns the detection to report now (the first of its window), or nothing. */
  add(d: IpsDetection, now: number): AggregatedDetection | undefined {
    const k = this.key(d);
    const cur = this.open.get(k);
    if (cur && now - cur.firstSeen < this.windowMs) {
      cur.count++;
      cur.lastSeen = now;
      return undefined;
    }
    if (cur) this.pending.push(...this.closeOne(k, cur));
    const fresh = { ...d, count: 1, firstSeen: now, lastSeen: now, reported: 1 };
    this.open.set(k, fresh);
    return { ...d, count: 1, firstSeen: now, lastSeen: now };
  }

  private pending: AggregatedDetection[] = [];

  private closeOne(k: string, a: AggregatedDetection & { reported: number }): AggregatedDetection[] {
    this.open.delete(k);
    const { reported, ...rest } = a;
    return a.count > reported ? [{ ...rest, count: a.count - reported }] : [];
  }

  /** Closes windows older than windowMs (all of them with `all`), returning the repeat counts. */
  flush(now: number, all = false): AggregatedDetection[] {
    const out = this.pending;
    this.pending = [];
    for (const [k, a] of this.open) if (all || now - a.firstSeen >= this.windowMs) out.push(...this.closeOne(k, a));
    return out;
  }
}
