import type { Computer, Event, Vulnerability } from '@palisade/api-client';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Badge } from '../components/badge.tsx';
import { QueryState } from '../components/query-state.tsx';
import { cvesOf, outcomeOf } from '../event-outcome.ts';
import { ago, EVENT_SOURCES, STATUSES, shortRef } from '../format.ts';
import { useApi } from '../session.tsx';

const COLORS: Record<string, string> = {
  system: '#8a8f98',
  'anti-malware': '#d9480f',
  ips: '#c2255c',
  firewall: '#1971c2',
  'log-inspection': '#2f9e44',
  integrity: '#f08c00',
  'app-control': '#7048e8',
  'web-reputation': '#0c8599',
};
const EVENT_SAMPLE = 1000;

function top<T>(items: T[], key: (t: T) => string[], n = 5): Array<{ key: string; count: number }> {
  const m = new Map<string, number>();
  for (const it of items) for (const k of key(it)) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([key, count]) => ({ key, count }));
}

/** Why a computer needs a person: offline, a module in error, or a critical CVE with no virtual patch assigned. */
function attentionReasons(c: Computer, vulns: Vulnerability[] | undefined): string[] {
  const out: string[] = [];
  if (c.status === 'offline') out.push(`offline (last heartbeat ${ago(c.lastHeartbeat)})`);
  for (const [m, s] of Object.entries(c.modules)) if (s.state === 'error') out.push(`${m}: ${s.reason ?? 'error'}`);
  const assigned = new Set((c.ruleAssignments ?? []).map((a) => `${a.module}/${a.ruleId}`));
  const open = (vulns ?? []).filter(
    (v) => (v.severity?.toLowerCase() === 'critical' || (v.score ?? 0) >= 9) && !v.shieldedBy.some((r) => assigned.has(r)),
  );
  if (open.length) out.push(`${open.length} critical CVE${open.length > 1 ? 's' : ''} without a virtual patch`);
  return out;
}

export function DashboardPage() {
  const api = useApi();
  // One "since" per visit, so the counts and the sample describe the same window.
  const since = useMemo(() => new Date(Date.now() - 24 * 3600_000).toISOString(), []);
  const computers = useQuery({ queryKey: ['computers', {}], queryFn: () => api.listComputers() });
  const counts = useQuery({ queryKey: ['event-counts', since], queryFn: () => api.eventCounts(since) });
  const events = useQuery({ queryKey: ['events', 'dashboard', since], queryFn: () => api.listEvents({ since, limit: EVENT_SAMPLE }) });
  const audit = useQuery({ queryKey: ['audit', 'recent'], queryFn: () => api.listAudit({ limit: 8 }) });
  const playbookActions = useQuery({ queryKey: ['playbook-actions', 'recent'], queryFn: () => api.listPlaybookActions({ limit: 8 }) });
  const vulns = useQuery({
    queryKey: ['vulnerabilities', 'all', computers.data?.computers.map((c) => c.id)],
    enabled: !!computers.data,
    // Per computer: the fleet is read once per visit, capped so a big fleet does not fan out.
    queryFn: async () => {
      const list = computers.data!.computers.slice(0, 50);
      const res = await Promise.all(list.map((c) => api.getVulnerabilities(c.id).catch(() => ({ vulnerabilities: [] }))));
      return new Map(list.map((c, i) => [c.id, res[i]!.vulnerabilities]));
    },
  });

  const list = computers.data?.computers ?? [];
  const evs: Event[] = events.data?.events ?? [];
  const byStatus = STATUSES.map((s) => ({ status: s, count: list.filter((c) => c.status === s).length }));
  const totalEvents = (counts.data?.counts ?? []).reduce((a, c) => a + Number(c.count), 0);
  const chartData = useMemo(() => {
    const hours = new Map<string, Record<string, number | string>>();
    // Every hour of the window gets a bar slot, so a quiet hour shows as a gap, not as nothing.
    const first = Math.floor(new Date(since).getTime() / 3600_000) * 3600_000;
    for (let t = first; t <= Date.now(); t += 3600_000) {
      // The API names an hour by its first 13 ISO characters: 2026-11-27T02.
      const hour = new Date(t).toISOString().slice(0, 13);
      hours.set(hour, { hour });
    }
    for (const c of counts.data?.counts ?? []) {
      const row = hours.get(c.hour) ?? { hour: c.hour };
      row[c.module] = ((row[c.module] as number) ?? 0) + Number(c.count);
      hours.set(c.hour, row);
    }
    return [...hours.values()].sort((a, b) => String(a.hour).localeCompare(String(b.hour)));
  }, [counts.data, since]);
  const modulesSeen = EVENT_SOURCES.filter((m) => chartData.some((r) => r[m] !== undefined));
  const hostname = new Map(list.map((c) => [c.id, c.hostname]));
  const topComputers = top(
    evs.filter((e) => e.module !== 'system'),
    (e) => [e.computerId],
  );
  const topRules = top(
    evs.filter((e) => e.ruleId),
    (e) => [`${e.module} ${e.ruleId}`],
  );
  const topCves = top(evs, cvesOf);
  const blocked = evs.filter((e) => e.module !== 'system' && outcomeOf(e) === 'blocked').length;
  const detected = evs.filter((e) => e.module !== 'system' && outcomeOf(e) === 'detected').length;
  const attention = list.map((c) => ({ c, reasons: attentionReasons(c, vulns.data?.get(c.id)) })).filter((x) => x.reasons.length);

  return (
    <>
      <h1>Dashboard</h1>
      <QueryState isLoading={computers.isLoading} error={computers.error} what="computers" />
      <section className="tiles" aria-label="Totals">
        <div className="tile">
          <span className="tile-label">Computers</span>
          <span className="tile-value" data-testid="count-computers">
            {computers.data ? list.length : '…'}
          </span>
        </div>
        {byStatus.map((s) => (
          <div className="tile" key={s.status}>
            <span className="tile-label">
              <Badge value={s.status} />
            </span>
            <span className="tile-value" data-testid={`count-status-${s.status}`}>
              {computers.data ? s.count : '…'}
            </span>
          </div>
        ))}
        <div className="tile">
          <span className="tile-label">Events, last 24 h</span>
          <span className="tile-value" data-testid="count-events">
            {counts.data ? totalEvents : '…'}
          </span>
        </div>
        <div className="tile">
          <span className="tile-label">Blocked / detected</span>
          <span className="tile-value" data-testid="count-blocked">
            {events.data ? `${blocked} / ${detected}` : '…'}
          </span>
        </div>
      </section>

      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Events per module, per hour (UTC, last 24 h)</h2>
        <QueryState isLoading={counts.isLoading} error={counts.error} what="event counts" />
        {totalEvents === 0 && counts.data ? <p className="muted">No events in the last 24 hours.</p> : null}
        {totalEvents > 0 ? (
          <div className="chart" role="img" aria-label={`Bar chart of ${totalEvents} events in the last 24 hours by module`}>
            <ResponsiveContainer width="100%" height={260}>
              <BarChart data={chartData}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="hour" tickFormatter={(h: string) => `${h.slice(11, 13)}:00`} />
                <YAxis allowDecimals={false} />
                <Tooltip labelFormatter={(h) => `${String(h).replace('T', ' ')}:00 UTC`} />
                <Legend />
                {modulesSeen.map((m) => (
                  <Bar key={m} dataKey={m} stackId="a" fill={COLORS[m]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        ) : null}
      </section>

      <div className="grid-3">
        <section className="card" aria-labelledby="top-computers">
          <h2 id="top-computers">Top attacked computers</h2>
          <TopList
            items={topComputers.map((t) => ({ ...t, label: hostname.get(t.key) ?? t.key, to: `/computers/${encodeURIComponent(t.key)}` }))}
          />
        </section>
        <section className="card" aria-labelledby="top-rules">
          <h2 id="top-rules">Top rules</h2>
          <TopList items={topRules.map((t) => ({ ...t, label: t.key }))} />
        </section>
        <section className="card" aria-labelledby="top-cves">
          <h2 id="top-cves">Top CVEs</h2>
          <TopList items={topCves.map((t) => ({ ...t, label: t.key }))} />
        </section>
      </div>
      <p className="muted small">Top lists and blocked/detected are computed from the latest {EVENT_SAMPLE} events of the last 24 hours.</p>

      <div className="grid-2">
        <section className="card" aria-labelledby="attention">
          <h2 id="attention">Computers needing attention</h2>
          {attention.length === 0 ? (
            <p className="muted">Nothing needs attention.</p>
          ) : (
            <ul className="plain">
              {attention.map(({ c, reasons }) => (
                <li key={c.id}>
                  <Link to={`/computers/${encodeURIComponent(c.id)}`}>{c.hostname}</Link> — {reasons.join('; ')}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="playbook-actions">
          <h2 id="playbook-actions">Recent playbook actions</h2>
          <QueryState isLoading={playbookActions.isLoading} error={playbookActions.error} what="playbook actions" />
          {playbookActions.data?.actions.length === 0 ? <p className="muted">No playbook has acted yet.</p> : null}
          <ul className="plain">
            {(playbookActions.data?.actions ?? []).map((a) => (
              <li key={a.id}>
                <span className="muted">{ago(a.createdAt)}</span> <code>{a.actionType}</code> <Badge value={a.status} />{' '}
                {a.computerId ? (
                  <Link to={`/computers/${encodeURIComponent(a.computerId)}`}>{hostname.get(a.computerId) ?? a.computerId}</Link>
                ) : null}
              </li>
            ))}
          </ul>
          <Link to="/playbooks">All playbook actions</Link>
        </section>
        <section className="card" aria-labelledby="recent">
          <h2 id="recent">Recent changes and actions</h2>
          <QueryState isLoading={audit.isLoading} error={audit.error} what="audit log" />
          <ul className="plain">
            {(audit.data?.entries ?? []).map((a) => (
              <li key={a.id}>
                <span className="muted">{ago(a.time)}</span> <code>{a.action}</code> {shortRef(a.target)}{' '}
                <span className="muted small">by {shortRef(a.actor)}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </>
  );
}

function TopList({ items }: { items: Array<{ key: string; label: string; count: number; to?: string }> }) {
  if (items.length === 0) return <p className="muted">None.</p>;
  return (
    <ol className="toplist">
      {items.map((i) => (
        <li key={i.key}>
          <span>{i.to ? <Link to={i.to}>{i.label}</Link> : i.label}</span>
          <span className="count">{i.count}</span>
        </li>
      ))}
    </ol>
  );
}
