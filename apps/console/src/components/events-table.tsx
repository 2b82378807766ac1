import type { Event } from '@palisade/api-client';
import { createColumnHelper } from '@tanstack/react-table';
import { Link } from 'react-router';
import { cvesOf, outcomeOf } from '../event-outcome.ts';
import { when } from '../format.ts';
import { Badge } from './badge.tsx';
import { DataTable } from './data-table.tsx';

const col = createColumnHelper<Event>();

/** Events as a table; the message links to the event's detail page. */
export function EventsTable({ events, hostnames }: { events: Event[]; hostnames?: Map<string, string> }) {
  const columns = [
    col.accessor('time', { header: 'Time', cell: (c) => <time dateTime={c.getValue()}>{when(c.getValue())}</time> }),
    col.accessor('severity', { header: 'Severity', cell: (c) => <Badge value={c.getValue()} /> }),
    col.accessor('module', { header: 'Module' }),
    col.accessor((e) => hostnames?.get(e.computerId) ?? e.computerId, { id: 'computer', header: 'Computer' }),
    col.accessor((e) => (e.module === 'system' ? '' : outcomeOf(e)), { id: 'outcome', header: 'Outcome' }),
    col.accessor('message', {
      header: 'Message',
      cell: (c) => <Link to={`/events/${encodeURIComponent(c.row.original.id)}`}>{c.getValue() || '(no message)'}</Link>,
    }),
    col.accessor((e) => [e.ruleId, ...cvesOf(e)].filter(Boolean).join(' '), { id: 'rule', header: 'Rule / CVE' }),
  ];
  return <DataTable data={events} columns={columns} caption="Events" rowKey={(e) => e.id} empty="No events match." />;
}
