import type { FirewallLogEntry } from './parse-log-line.ts';

export interface AggregatedFirewallEvent {
  kind: string;
  rule: string;
  direction: 'in' | 'out';
  src?: string;
  dst?: string;
  proto?: string;
  dstPort?: number;
  count: number;
  /** Milliseconds, as given by the caller's clock. */
  first: number;
  last: number;
}

/**
 * Folds logged packets into one event per (rule, direction, source, destination, protocol,
 * destination port) and window, so a flood becomes one event with a count instead of thousands.
 * The caller owns the clock: `add` and `flush` take the time.
 */
export class EventAggregator {
  private readonly open = new Map<string, AggregatedFirewallEvent>();

  constructor(
    private readonly windowMs = 10_000,
    /** Distinct open events kept at most; beyond it, new keys are counted in `dropped`. */
    private readonly maxOpen = 10_000,
  ) {}

  dropped = 0;

  add(e: FirewallLogEntry, now: number): void {
    const key = [e.kind, e.rule, e.direction, e.src, e.dst, e.proto, e.dstPort].join('|');
    const cur = this.open.get(key);
    if (cur) {
      cur.count++;
      cur.last = now;
      return;
    }
    if (this.open.size >= this.maxOpen) {
      this.dropped++;
      return;
    }
    this.open.set(key, {
      kind: e.kind,
      rule: e.rule,
      direction: e.direction,
      ...(e.src ? { src: e.src } : {}),
      ...(e.dst ? { dst: e.dst } : {}),
      ...(e.proto ? { proto: e.proto } : {}),
      ...(e.dstPort !== undefined ? { dstPort: e.dstPort } : {}),
      count: 1,
      first: now,
      last: now,
    });
  }

  /** Events whose window has ended by `now` (all of them with `all`), oldest first. */
  flush(now: number, all = false): AggregatedFirewallEvent[] {
    const out: AggregatedFirewallEvent[] = [];
    for (const [key, ev] of this.open) {
      if (all || now - ev.first >= this.windowMs) {
        out.push(ev);
        this.open.delete(key);
      }
    }
    return out.sort((a, b) => a.first - b.first);
  }
}
