import type { InventoryItem, SettingOrigin, Vulnerability } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { Badge } from '../components/badge.tsx';
import { DataTable } from '../components/data-table.tsx';
import { EventsTable } from '../components/events-table.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { RecommendationPanel } from '../components/recommendation-panel.tsx';
import { Tabs } from '../components/tabs.tsx';
import { ago, when } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

/** One computer: module status, inventory, vulnerabilities, events, effective configuration, recommendations. */
export function ComputerPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'overview';
  const computer = useQuery({ queryKey: ['computer', id], queryFn: () => api.getComputer(id) });
  const c = computer.data;
  return (
    <>
      <h1>{c?.hostname ?? 'Computer'}</h1>
      <QueryState isLoading={computer.isLoading} error={computer.error} what="computer" />
      {c ? (
        <Tabs
          selected={tab}
          onSelect={(t) => setParams({ tab: t }, { replace: true })}
          tabs={[
            { id: 'overview', label: 'Overview', render: () => <Overview id={id} /> },
            { id: 'inventory', label: 'Inventory', render: () => <Inventory id={id} /> },
            { id: 'vulnerabilities', label: 'Vulnerabilities', render: () => <Vulnerabilities id={id} /> },
            { id: 'events', label: 'Events', render: () => <ComputerEvents id={id} /> },
            { id: 'config', label: 'Effective configuration', render: () => <EffectiveConfig id={id} /> },
            { id: 'recommendations', label: 'Recommendations', render: () => <RecommendationPanel computerId={id} /> },
          ]}
        />
      ) : null}
    </>
  );
}

function Overview({ id }: { id: string }) {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const computer = useQuery({ queryKey: ['computer', id], queryFn: () => api.getComputer(id) });
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => api.listPolicies() });
  const [policyId, setPolicyId] = useState<string | null>(null);
  const assign = useMutation({
    mutationFn: (pid: string) => api.updateComputer(id, { policyId: pid || null }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['computer', id] }),
  });
  const c = computer.data!;
  const policyName = policies.data?.policies.find((p) => p.id === c.policyId)?.name;
  return (
    <div className="grid-2">
      <section className="card" aria-labelledby="facts">
        <h2 id="facts">Facts</h2>
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <Badge value={c.status} />
          </dd>
          <dt>Platform</dt>
          <dd>{c.platform}</dd>
          <dt>IP addresses</dt>
          <dd>{c.ips.join(', ') || '—'}</dd>
          <dt>Agent version</dt>
          <dd>{c.agentVersion}</dd>
          <dt>Last heartbeat</dt>
          <dd title={c.lastHeartbeat ?? ''}>{ago(c.lastHeartbeat)}</dd>
          <dt>Activated</dt>
          <dd>{when(c.activatedAt)}</dd>
          <dt>Policy</dt>
          <dd>{c.policyId ? <Link to={`/policies/${encodeURIComponent(c.policyId)}`}>{policyName ?? c.policyId}</Link> : 'none'}</dd>
          <dt>Group</dt>
          <dd>{c.group ?? '—'}</dd>
          <dt>Event spool</dt>
          <dd>
            {c.spool.pending} pending, {c.spool.dropped} dropped
          </dd>
          <dt>Tags</dt>
          <dd>
            {Object.entries({ ...(c.cloud ?? {}), ...c.tags })
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(', ') || '—'}
          </dd>
        </dl>
        {can('operator') ? (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              assign.mutate(policyId ?? c.policyId ?? '');
            }}
          >
            <label>
              Assign policy
              <select value={policyId ?? c.policyId ?? ''} onChange={(e) => setPolicyId(e.target.value)}>
                <option value="">(no policy)</option>
                {(policies.data?.policies ?? []).map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={assign.isPending}>
              Assign
            </button>
            <ErrorMessage error={assign.error} />
          </form>
        ) : null}
      </section>
      <RecentCommands id={id} />
      <section className="card" aria-labelledby="modules">
        <h2 id="modules">Modules</h2>
        <table>
          <caption className="visually-hidden">Module status</caption>
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">State</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(c.modules).map(([m, s]) => (
              <tr key={m}>
                <td>{m}</td>
                <td>
                  <Badge value={s.state} />
                </td>
                <td>{s.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {Object.keys(c.modules).length === 0 ? <p className="muted">The agent has not reported module status yet.</p> : null}
      </section>
    </div>
  );
}

const invCol = createColumnHelper<InventoryItem>();
const invColumns = [
  invCol.accessor('ecosystem', { header: 'Ecosystem' }),
  invCol.accessor('name', { header: 'Package' }),
  invCol.accessor('version', { header: 'Version' }),
  invCol.accessor('location', { header: 'Location' }),
];

function Inventory({ id }: { id: string }) {
  const api = useApi();
  const [filter, setFilter] = useState('');
  const inv = useQuery({ queryKey: ['inventory', id], queryFn: () => api.getInventory(id), retry: false });
  const items = (inv.data?.inventory.items ?? []).filter(
    (i) => !filter || `${i.ecosystem} ${i.name} ${i.version}`.toLowerCase().includes(filter.toLowerCase()),
  );
  return (
    <section aria-label="Inventory">
      <QueryState isLoading={inv.isLoading} error={inv.error} what="inventory" />
      {inv.data ? (
        <>
          <p className="muted">
            {inv.data.inventory.items.length} packages, collected {when(inv.data.collectedAt)}
          </p>
          <label>
            Filter packages <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
          <DataTable data={items.slice(0, 500)} columns={invColumns} caption="Software inventory" />
          {items.length > 500 ? <p className="muted">Showing 500 of {items.length}; filter to narrow.</p> : null}
        </>
      ) : null}
    </section>
  );
}

function Vulnerabilities({ id }: { id: string }) {
  const api = useApi();
  const computer = useQuery({ queryKey: ['computer', id], queryFn: () => api.getComputer(id) });
  const vulns = useQuery({ queryKey: ['vulnerabilities', id], queryFn: () => api.getVulnerabilities(id) });
  const recs = useQuery({ queryKey: ['recommendations', id], queryFn: () => api.getRecommendations(id) });
  const assigned = new Set((computer.data?.ruleAssignments ?? []).map((a) => `${a.module}/${a.ruleId}`));
  const toAssign = new Set((recs.data?.scan?.diff.assign ?? []).map((r) => `${r.module}/${r.ruleId}`));
  const removable = new Set((recs.data?.scan?.diff.unassign ?? []).map((r) => `${r.module}/${r.ruleId}`));
  const state = (r: string) =>
    removable.has(r) ? 'removable' : assigned.has(r) ? 'assigned' : toAssign.has(r) ? 'recommended' : 'available';
  const vcol = createColumnHelper<Vulnerability>();
  const columns = [
    vcol.accessor((v) => [v.advisoryId, ...v.aliases].join(' '), { id: 'id', header: 'Advisory / CVE' }),
    vcol.accessor((v) => v.severity ?? (v.score !== undefined ? String(v.score) : ''), { id: 'severity', header: 'Severity' }),
    vcol.accessor((v) => `${v.package.name} ${v.package.version}`, { id: 'package', header: 'Package' }),
    vcol.accessor((v) => v.fixedVersion ?? '—', { id: 'fixed', header: 'Fixed in' }),
    vcol.accessor((v) => v.shieldedBy.join(' '), {
      id: 'patch',
      header: 'Virtual patch',
      cell: (c) =>
        c.row.original.shieldedBy.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          c.row.original.shieldedBy.map((r) => (
            <span key={r}>
              {r} <Badge value={state(r)} />{' '}
            </span>
          ))
        ),
    }),
  ];
  return (
    <section aria-label="Vulnerabilities">
      <QueryState isLoading={vulns.isLoading} error={vulns.error} what="vulnerabilities" />
      {vulns.data ? (
        <>
          <p className="muted">Latest recommendation scan: {when(vulns.data.scannedAt)}</p>
          <DataTable data={vulns.data.vulnerabilities} columns={columns} caption="Vulnerabilities" empty="No known vulnerabilities." />
          <h3>Virtual patches and rules for this computer</h3>
          <p className="muted small">
            Recommended by the latest scan (from advisories, or from a rule's own affected versions when no advisory data is imported).
          </p>
          <ul className="plain" data-testid="patch-states">
            {(recs.data?.scan?.recommended ?? []).map((r) => (
              <li key={`${r.module}/${r.ruleId}`}>
                {r.module}/{r.ruleId} <Badge value={state(`${r.module}/${r.ruleId}`)} /> {r.title}{' '}
                <span className="muted small">
                  {r.cves.join(', ')} · {r.reasons.map((x) => `${x.package} ${x.version} via ${x.via}`).join('; ')}
                </span>
              </li>
            ))}
            {[...removable].map((r) => (
              <li key={r}>
                {r} <Badge value="removable" />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function ComputerEvents({ id }: { id: string }) {
  const api = useApi();
  const events = useQuery({ queryKey: ['events', { computerId: id }], queryFn: () => api.listEvents({ computerId: id, limit: 200 }) });
  return (
    <section aria-label="Events of this computer">
      <QueryState isLoading={events.isLoading} error={events.error} what="events" />
      {events.data ? <EventsTable events={events.data.events} /> : null}
      <p>
        <Link to={`/events?computerId=${encodeURIComponent(id)}`}>Open in the event explorer</Link>
      </p>
    </section>
  );
}

export function originLabel(o: SettingOrigin, policyNames: Map<string, string>): string {
  if (o.source === 'default') return 'default';
  if (o.source === 'computer') return 'this computer (override)';
  return `policy ${policyNames.get(o.source.policyId) ?? o.source.policyId}`;
}

function EffectiveConfig({ id }: { id: string }) {
  const api = useApi();
  const cfg = useQuery({ queryKey: ['effective-config', id], queryFn: () => api.effectiveConfig(id), refetchInterval: 5000 });
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => api.listPolicies() });
  const names = new Map((policies.data?.policies ?? []).map((p) => [p.id, p.name]));
  return (
    <section aria-label="Effective configuration">
      <QueryState isLoading={cfg.isLoading} error={cfg.error} what="configuration" />
      {cfg.data ? (
        <>
          <p>
            Configuration hash <code data-testid="config-hash">{cfg.data.hash.slice(0, 12)}</code>;{' '}
            {cfg.data.appliedHash === cfg.data.hash ? (
              <span data-testid="config-applied">applied by the agent</span>
            ) : (
              <span data-testid="config-pending">
                the agent still runs <code>{cfg.data.appliedHash.slice(0, 12) || 'nothing'}</code> (applies on its next heartbeat)
              </span>
            )}
          </p>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Effective settings and their origin</caption>
              <thead>
                <tr>
                  <th scope="col">Setting</th>
                  <th scope="col">Value</th>
                  <th scope="col">Comes from</th>
                </tr>
              </thead>
              <tbody>
                {cfg.data.origins.map((o) => (
                  <tr key={o.path} className={o.source === 'default' ? 'inherited' : 'overridden'}>
                    <td>
                      <code>{o.path}</code>
                    </td>
                    <td>
                      <code>{JSON.stringify(o.value)}</code>
                    </td>
                    <td>{originLabel(o, names)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

/** Commands sent to the agent (scans, inventory requests…) and how they ended. */
function RecentCommands({ id }: { id: string }) {
  const api = useApi();
  const cmds = useQuery({ queryKey: ['commands', id], queryFn: () => api.listComputerCommands(id), refetchInterval: 5000 });
  return (
    <section className="card" aria-labelledby="commands">
      <h2 id="commands">Recent commands</h2>
      <QueryState isLoading={cmds.isLoading} error={cmds.error} what="commands" />
      {cmds.data?.commands.length === 0 ? <p className="muted">No commands yet.</p> : null}
      <ul className="plain">
        {(cmds.data?.commands ?? []).slice(0, 10).map((c) => (
          <li key={c.id}>
            <span className="muted">{ago(c.createdAt)}</span> <code>{c.kind}</code> <Badge value={c.status} />
            {c.error ? <span className="error"> {c.error}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
