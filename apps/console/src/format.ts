/** Times are shown in the browser's locale, with the ISO form as a tooltip elsewhere. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "3 min ago": how fresh a heartbeat is matters more than its exact time. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const MODULES = ['anti-malware', 'ips', 'firewall', 'log-inspection', 'integrity', 'app-control', 'web-reputation'] as const;
export const EVENT_SOURCES = ['system', ...MODULES] as const;
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const STATUSES = ['online', 'offline', 'warning', 'error'] as const;

/** `computer:primary.5e5a4f0d-…` → `computer 5e5a4f0d`: audit references are long UUIDs. */
export function shortRef(ref: string): string {
  const m = /^([a-z-]+):(?:[^.]+\.)?([0-9a-f]{8})[0-9a-f-]{28}$/i.exec(ref);
  return m ? `${m[1]} ${m[2]}` : ref;
}
