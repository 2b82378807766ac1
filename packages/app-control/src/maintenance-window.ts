/** A maintenance period in epoch milliseconds, [start, end). */
export interface MaintenanceWindow {
  start: number;
  end: number;
}

export function maintenanceActive(window: MaintenanceWindow | undefined, now: number): boolean {
  return window !== undefined && now >= window.start && now < window.end;
}

/** Parses a duration like `90s`, `30m`, `2h` (or plain seconds) into ms; undefined when invalid or over a day. */
export function parseDuration(text: string | number): number | undefined {
  const m = /^(\d+)\s*(s|m|h)?$/.exec(String(text).trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : 1000);
  return n > 0 && n <= 86_400_000 ? n : undefined;
}
