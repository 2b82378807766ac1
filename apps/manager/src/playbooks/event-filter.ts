import { SEVERITIES, type Severity } from '@palisade/protocol';
import type { PlaybookFilter } from './playbook-schema.ts';

/** What a playbook sees of one stored event. */
export interface PlaybookEvent {
  id: string;
  computerId: string;
  module: string;
  type: string;
  severity: string;
  ruleId?: string | null;
  message: string;
  details?: Record<string, unknown> | null;
  time: string;
}

const rank = (s: string) => SEVERITIES.indexOf(s as Severity);

/** Whether an event (of a computer with these tags) passes the filter; absent parts match all. */
export function eventMatches(filter: PlaybookFilter, e: PlaybookEvent, computerTags: Record<string, string>): boolean {
  if (filter.modules && !filter.modules.includes(e.module as never)) return false;
  if (filter.types && !filter.types.some((t) => (t.endsWith('*') ? e.type.startsWith(t.slice(0, -1)) : e.type === t))) return false;
  if (filter.minSeverity && rank(e.severity) < rank(filter.minSeverity)) return false;
  if (filter.ruleIds && !(e.ruleId && filter.ruleIds.includes(e.ruleId))) return false;
  if (filter.computerIds && !filter.computerIds.includes(e.computerId)) return false;
  if (filter.computerTags && !Object.entries(filter.computerTags).every(([k, v]) => computerTags[k] === v)) return false;
  return true;
}
