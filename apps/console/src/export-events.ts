import type { Event } from '@palisade/api-client';

const COLUMNS = ['id', 'time', 'computerId', 'module', 'type', 'severity', 'ruleId', 'message', 'details', 'receivedAt'] as const;

/** RFC 4180 quoting; a leading = + - @ is prefixed so a spreadsheet does not run it as a formula. */
function cell(v: unknown): string {
  let s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function eventsToCsv(events: Event[]): string {
  const lines = [COLUMNS.join(',')];
  for (const e of events) lines.push(COLUMNS.map((c) => cell(e[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function eventsToJson(events: Event[]): string {
  return `${JSON.stringify(events, null, 2)}\n`;
}
