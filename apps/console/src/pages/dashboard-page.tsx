import type { Computer, Vulnerability } from '@palisade/api-client';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Badge } from '../components/badge.tsx';
import { QueryState } from '../components/query-state.tsx';
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
  // One window per visit; the manager aggregates every event of it (GROUP BY), however many there are.
  const range = useMemo(() => {
    const until = new Date();
    return { since: new Date(until.getTime() - 24 * 3600_000).toISOString(), until: until.toISOString() };
  }, []);
  const since = range.since;
  const computers = useQuery({ queryKey: ['computers', {}], queryFn: () => api.listComputers() });
  const summary = useQuery({ queryKey: ['event-summary', range], queryFn: () => api.eventSummary({ ...range, top: 5 }) });
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
  const byStatus = STATUSES.map((s) => ({ status: s, count: list.filter((c) => c.status === s).length }));
  const totalEvents = summary.data?.total ?? 0;
  const chartData = useMemo(() => {
    const hours = new Map<string, Record<string, number | string>>();
    // Every hour of the window gets a bar slot, so a quiet hour shows as a gap, not as nothing.
    const first = Math.floor(new Date(since).getTime() / 3600_000) * 3600_000;
    for (let t = first; t <= Date.now(); t += 3600_000) {
      // The API names an hour by its first 13 ISO characters: 2026-11-27T02.
      const hour = new Date(t).toISOString().slice(0, 13);
      hours.set(hour, { hour });
    }
    for (const c of summary.data?.perHour ?? []) {
      // The API's hours are `2026-11-27T02:00:00Z`; the slots are keyed by their first 13 characters.
      const hour = c.hour.slice(0, 13);
      const row = hours.get(hour) ?? { hour };
      row[c.module] = ((row[c.module] as number) ?? 0) + Number(c.count);
      hours.set(hour, row);
    }
    return [...hours.values()].sort((a, b) => String(a.hour).localeCompare(String(b.hour)));
  }, [summary.data, since]);
  const modulesSeen = EVENT_SOURCES.filter((m) => chartData.some((r) => r[m] !== undefined));
  const hostname = new Map(list.map((c) => [c.id, c.hostname]));
  const topComputers = (summary.data?.topComputers ?? []).map((t) => ({ key: t.computerId, label: t.hostname, count: t.count }));
  const topRules = (summary.data?.topRules ?? []).map((t) => ({ key: `${t.module} ${t.ruleId}`, count: t.count }));
  const topCves = (summary.data?.topCves ?? []).map((t) => ({ key: t.cve, count: t.count }));
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
            {summary.data ? totalEvents : '…'}
          </span>
        </div>
        <div className="tile">
          <span className="tile-label">Blocked / detected</span>
          <span className="tile-value" data-testid="count-blocked">
            {summary.data ? `${summary.data.blocked} / ${summary.data.detected}` : '…'}
          </span>
        </div>
      </section>

      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Events per module, per hour (UTC, last 24 h)</h2>
        <QueryState isLoading={summary.isLoading} error={summary.error} what="event summary" />
        {totalEvents === 0 && summary.data ? <p className="muted">No events in the last 24 hours.</p> : null}
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
            testId="top-computers"
            items={topComputers.map((t) => ({
              ...t,
              label: t.label ?? hostname.get(t.key) ?? t.key,
              to: `/computers/${encodeURIComponent(t.key)}`,
            }))}
          />
        </section>
        <section className="card" aria-labelledby="top-rules">
          <h2 id="top-rules">Top rules</h2>
          <TopList testId="top-rules" items={topRules.map((t) => ({ ...t, label: t.key }))} />
        </section>
        <section className="card" aria-labelledby="top-cves">
          <h2 id="top-cves">Top CVEs</h2>
          <TopList testId="top-cves" items={topCves.map((t) => ({ ...t, label: t.key }))} />
        </section>
      </div>
      <p className="muted small">
        Top lists and blocked/detected count every event of the last 24 hours (blocked/detected and top computers leave out the agents' own
        system events).
      </p>

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

function TopList({ items, testId }: { items: Array<{ key: string; label: string; count: number; to?: string }>; testId: string }) {
  if (items.length === 0)
    return (
      <p className="muted" data-testid={testId}>
        None.
      </p>
    );
  return (
    <ol className="toplist" data-testid={testId}>
      {items.map((i) => (
        <li key={i.key}>
          <span>{i.to ? <Link to={i.to}>{i.label}</Link> : i.label}</span>
          <span className="count">{i.count}</span>
        </li>
      ))}
    </ol>
  );
}
