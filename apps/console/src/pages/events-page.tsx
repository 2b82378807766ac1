import type { Event } from '@palisade/api-client';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { EventsTable } from '../components/events-table.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { download } from '../download.ts';
import { eventsToCsv, eventsToJson } from '../export-events.ts';
import { EVENT_SOURCES, SEVERITIES } from '../format.ts';
import { useApi } from '../session.tsx';

const PAGE = 200;
const EXPORT_MAX = 50_000;
const RANGES: Array<{ id: string; label: string; hours: number | null }> = [
  { id: '1h', label: 'last hour', hours: 1 },
  { id: '24h', label: 'last 24 hours', hours: 24 },
  { id: '7d', label: 'last 7 days', hours: 168 },
  { id: '30d', label: 'last 30 days', hours: 720 },
  { id: 'all', label: 'all time', hours: null },
  { id: 'custom', label: 'custom…', hours: null },
];

const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The event explorer: filters and time range in the URL, cursor paging, CSV/JSON export. */
export function EventsPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const set = (k: string, v: string | string[]) => {
    const next = new URLSearchParams(params);
    next.delete(k);
    for (const x of Array.isArray(v) ? v : [v]) if (x) next.append(k, x);
    setParams(next, { replace: true });
  };
  const range = params.get('range') ?? '24h';
  const hours = RANGES.find((r) => r.id === range)?.hours ?? null;
  // Rounded to the minute so that the query key (and the cache) is stable while the page is open.
  const since =
    range === 'custom'
      ? toIso(params.get('from') ?? '')
      : hours
        ? new Date(Math.floor(Date.now() / 60_000) * 60_000 - hours * 3600_000).toISOString()
        : undefined;
  const until = range === 'custom' ? toIso(params.get('to') ?? '') : undefined;
  const filter = {
    module: params.get('module') || undefined,
    type: params.get('type') || undefined,
    computerId: params.get('computerId') || undefined,
    severity: params.getAll('severity').length ? params.getAll('severity') : undefined,
    since,
    until,
  };
  const computers = useQuery({ queryKey: ['computers', {}], queryFn: () => api.listComputers() });
  const hostnames = new Map((computers.data?.computers ?? []).map((c) => [c.id, c.hostname]));
  const events = useInfiniteQuery({
    queryKey: ['events', 'explorer', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => api.listEvents({ ...filter, limit: PAGE, ...(pageParam ? { cursor: pageParam } : {}) }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const loaded: Event[] = events.data?.pages.flatMap((p) => p.events) ?? [];
  const [exporting, setExporting] = useState('');
  const [exportError, setExportError] = useState<unknown>(null);

  // Export follows the cursor to the end of the filtered result, not just what is on screen.
  const exportAll = async (format: 'csv' | 'json') => {
    setExportError(null);
    setExporting(`Exporting… 0 events`);
    try {
      const all: Event[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.listEvents({ ...filter, limit: 1000, ...(cursor ? { cursor } : {}) });
        all.push(...page.events);
        cursor = page.nextCursor ?? undefined;
        setExporting(`Exporting… ${all.length} events`);
      } while (cursor && all.length < EXPORT_MAX);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (format === 'csv') download(`palisade-events-${stamp}.csv`, 'text/csv', eventsToCsv(all));
      else download(`palisade-events-${stamp}.json`, 'application/json', eventsToJson(all));
      setExporting(`Exported ${all.length} events${all.length >= EXPORT_MAX ? ` (capped at ${EXPORT_MAX})` : ''}.`);
    } catch (err) {
      setExportError(err);
      setExporting('');
    }
  };

  return (
    <>
      <h1>Events</h1>
      <form className="filters" role="search" aria-label="Event filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Time range
          <select value={range} onChange={(e) => set('range', e.target.value)}>
            {RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        {range === 'custom' ? (
          <>
            <label>
              From
              <input type="datetime-local" value={params.get('from') ?? ''} onChange={(e) => set('from', e.target.value)} />
            </label>
            <label>
              To
              <input type="datetime-local" value={params.get('to') ?? ''} onChange={(e) => set('to', e.target.value)} />
            </label>
          </>
        ) : null}
        <label>
          Module
          <select value={filter.module ?? ''} onChange={(e) => set('module', e.target.value)}>
            <option value="">any</option>
            {EVENT_SOURCES.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Computer
          <select value={filter.computerId ?? ''} onChange={(e) => set('computerId', e.target.value)}>
            <option value="">any</option>
            {(computers.data?.computers ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.hostname}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <input value={filter.type ?? ''} onChange={(e) => set('type', e.target.value)} placeholder="e.g. ips.detection" />
        </label>
        <fieldset className="inline">
          <legend>Severity</legend>
          {SEVERITIES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={filter.severity?.includes(s) ?? false}
                onChange={(e) =>
                  set('severity', e.target.checked ? [...(filter.severity ?? []), s] : (filter.severity ?? []).filter((x) => x !== s))
                }
              />
              {s}
            </label>
          ))}
        </fieldset>
      </form>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void exportAll('csv')}>
          Export CSV
        </button>
        <button type="button" className="secondary" onClick={() => void exportAll('json')}>
          Export JSON
        </button>
        <span role="status">{exporting}</span>
      </div>
      <ErrorMessage error={exportError} />
      <QueryState isLoading={events.isLoading} error={events.error} what="events" />
      {events.data ? (
        <>
          <p className="muted" data-testid="event-count">
            {loaded.length} event(s) shown{events.hasNextPage ? ', more available' : ''}
          </p>
          <EventsTable events={loaded} hostnames={hostnames} />
          {events.hasNextPage ? (
            <button type="button" onClick={() => void events.fetchNextPage()} disabled={events.isFetchingNextPage}>
              Load more
            </button>
          ) : null}
        </>
      ) : null}
    </>
  );
}
