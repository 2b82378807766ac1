import { SEVERITIES, type Severity } from '@palisade/protocol';
import type { ForwarderFilter } from './forwarder-config.ts';
import type { ForwardedEvent } from './forwarded-event.ts';

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** True when the event passes every criterion the filter sets (an empty filter takes everything). */
export function matchesFilter(filter: ForwarderFilter, e: Pick<ForwardedEvent, 'module' | 'severity' | 'type' | 'group'>): boolean {
  if (filter.modules && !filter.modules.includes(e.module)) return false;
  if (filter.minSeverity && rank(e.severity) < rank(filter.minSeverity)) return false;
  if (filter.types && !filter.types.includes(e.type)) return false;
  if (filter.groups && (e.group === null || !filter.groups.includes(e.group))) return false;
  return true;
}
