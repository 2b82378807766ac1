import type { Change } from '@palisade/integrity';
import type { ModuleEventInput } from '../../agent-module.ts';
import type { EventContentDiff } from './content-tracker.ts';

/** How a change was found: by the real-time watcher's rescan, or by a full scan. */
export type ChangeSource = 'realtime' | 'scan';

function show(name: string, v: unknown): string {
  if (name === 'mode' && typeof v === 'number') return `0${v.toString(8)}`;
  // Hashes are shortened in the message; the details keep them whole.
  return JSON.stringify(typeof v === 'string' && v.length > 24 ? `${v.slice(0, 12)}…` : v);
}

/**
 * One agent event per change: the type names the change (`integrity.updated`), the rule's
 * severity becomes the event's, and the details keep the whole change (attributes with before
 * and after, flags, full attributes of created/deleted entities) so the manager needs nothing else.
 */
export function changeEvent(c: Change, source: ChangeSource, content?: EventContentDiff): ModuleEventInput {
  const what = c.change === 'renamed' ? `${c.from} -> ${c.key}` : c.key;
  const attrs = c.attributes.map((a) => `${a.name} ${show(a.name, a.before)} -> ${show(a.name, a.after)}`).join(', ');
  const flags = c.flags.length ? ` [${c.flags.join(', ')}]` : '';
  // The diff itself stays in the details; the message says how big it is (forwarded syslog lines show it).
  const lines = content?.status === 'diff' ? ` [text diff +${content.added} -${content.removed}]` : '';
  const message = `${c.kind} ${c.change}: ${what}${attrs ? ` (${attrs})` : ''}${flags}${lines}`;
  return {
    type: `integrity.${c.change}`,
    severity: c.severity,
    message: message.length > 4000 ? `${message.slice(0, 3997)}...` : message,
    ruleId: c.rule,
    details: {
      source,
      change: c.change,
      kind: c.kind,
      key: c.key,
      ...(c.from !== undefined ? { from: c.from } : {}),
      rule: c.rule,
      attributes: c.attributes,
      flags: c.flags,
      ...(c.before ? { before: c.before } : {}),
      ...(c.after ? { after: c.after } : {}),
      ...(content ? { contentDiff: content } : {}),
    },
  };
}
