import type { Computer } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Badge } from '../components/badge.tsx';
import { DataTable } from '../components/data-table.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { ago, STATUSES } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

const col = createColumnHelper<Computer>();

/** Computers with search and filters; the filters live in the URL so a view can be shared. */
export function ComputersPage() {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const filter = {
    hostname: params.get('hostname') ?? undefined,
    status: params.get('status') ?? undefined,
    policyId: params.get('policyId') ?? undefined,
    smartFolderId: params.get('smartFolderId') ?? undefined,
  };
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const computers = useQuery({ queryKey: ['computers', filter], queryFn: () => api.listComputers(filter) });
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => api.listPolicies() });
  const folders = useQuery({ queryKey: ['smart-folders'], queryFn: () => api.listSmartFolders() });
  const policyName = new Map((policies.data?.policies ?? []).map((p) => [p.id, p.name]));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkPolicy, setBulkPolicy] = useState('');
  const [bulkResult, setBulkResult] = useState('');
  const [scanPaths, setScanPaths] = useState('/home /tmp /var/www');

  const bulk = useMutation({
    mutationFn: async (action: 'policy' | 'recommendation-scan' | 'malware-scan') => {
      const ids = [...selected];
      if (action === 'policy') await Promise.all(ids.map((id) => api.updateComputer(id, { policyId: bulkPolicy || null })));
      else if (action === 'recommendation-scan') await Promise.all(ids.map((id) => api.scanRecommendations(id, {})));
      else {
        const paths = scanPaths
          .split(/[\s,]+/)
          .map((p) => p.trim())
          .filter(Boolean);
        await Promise.all(ids.map((id) => api.sendCommand(id, { kind: 'anti-malware.scan', args: { paths } })));
      }
      const done = {
        policy: 'Policy assigned to',
        'recommendation-scan': 'Recommendation scan run on',
        'malware-scan': 'Malware scan sent to',
      }[action];
      return `${done} ${ids.length} computer(s).`;
    },
    onSuccess: (msg) => {
      setBulkResult(msg);
      void qc.invalidateQueries({ queryKey: ['computers'] });
    },
  });

  const columns = useMemo(
    () => [
      col.display({
        id: 'select',
        header: () => <span className="visually-hidden">Select</span>,
        cell: ({ row }) => (
          <input
            type="checkbox"
            aria-label={`Select ${row.original.hostname}`}
            checked={selected.has(row.original.id)}
            onChange={(e) =>
              setSelected((s) => {
                const n = new Set(s);
                if (e.target.checked) n.add(row.original.id);
                else n.delete(row.original.id);
                return n;
              })
            }
          />
        ),
      }),
      col.accessor('hostname', {
        header: 'Hostname',
        cell: (c) => <Link to={`/computers/${encodeURIComponent(c.row.original.id)}`}>{c.getValue()}</Link>,
      }),
      col.accessor('status', { header: 'Status', cell: (c) => <Badge value={c.getValue()} /> }),
      col.accessor('platform', { header: 'Platform' }),
      col.accessor((c) => c.ips.join(', '), { id: 'ips', header: 'IP addresses' }),
      col.accessor((c) => (c.policyId ? (policyName.get(c.policyId) ?? c.policyId) : '—'), { id: 'policy', header: 'Policy' }),
      col.accessor((c) => c.group ?? '', { id: 'group', header: 'Group' }),
      col.accessor(
        (c) =>
          Object.entries(c.modules)
            .filter(([, s]) => s.state === 'running')
            .map(([m]) => m)
            .join(', '),
        { id: 'modules', header: 'Running modules' },
      ),
      col.accessor('lastHeartbeat', { header: 'Last heartbeat', cell: (c) => ago(c.getValue()) }),
    ],
    [selected, policyName],
  );

  return (
    <>
      <div className="page-head">
        <h1>Computers</h1>
        {can('operator') ? (
          <Link className="button" to="/smart-folders/new">
            New smart folder
          </Link>
        ) : null}
      </div>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search hostname
          <input type="search" value={filter.hostname ?? ''} onChange={(e) => set('hostname', e.target.value)} />
        </label>
        <label>
          Status
          <select value={filter.status ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Policy
          <select value={filter.policyId ?? ''} onChange={(e) => set('policyId', e.target.value)}>
            <option value="">any</option>
            {(policies.data?.policies ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Smart folder
          <select value={filter.smartFolderId ?? ''} onChange={(e) => set('smartFolderId', e.target.value)}>
            <option value="">none</option>
            {(folders.data?.smartFolders ?? []).map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        {filter.smartFolderId ? (
          <Link to={`/smart-folders/${encodeURIComponent(filter.smartFolderId)}`}>Edit this smart folder</Link>
        ) : null}
      </form>

      {can('operator') && selected.size > 0 ? (
        <section className="bulk card" aria-label="Bulk actions">
          <span>{selected.size} selected</span>
          <label>
            Assign policy
            <select value={bulkPolicy} onChange={(e) => setBulkPolicy(e.target.value)}>
              <option value="">(no policy)</option>
              {(policies.data?.policies ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={() => bulk.mutate('policy')} disabled={bulk.isPending}>
            Assign
          </button>
          <button type="button" onClick={() => bulk.mutate('recommendation-scan')} disabled={bulk.isPending}>
            Run recommendation scan
          </button>
          <label>
            Paths to scan for malware
            <input value={scanPaths} onChange={(e) => setScanPaths(e.target.value)} />
          </label>
          <button type="button" onClick={() => bulk.mutate('malware-scan')} disabled={bulk.isPending || !scanPaths.trim()}>
            Malware scan
          </button>
          <ErrorMessage error={bulk.error} />
          {bulkResult ? <span role="status">{bulkResult}</span> : null}
        </section>
      ) : null}

      <QueryState isLoading={computers.isLoading} error={computers.error} what="computers" />
      {computers.data ? (
        <>
          <p className="muted" role="status" data-testid="computer-count">
            {computers.data.computers.length} computer(s)
          </p>
          <DataTable
            data={computers.data.computers}
            columns={columns}
            caption="Computers"
            rowKey={(c) => c.id}
            empty="No computer matches."
          />
        </>
      ) : null}

      <section className="card" aria-labelledby="folders-title">
        <h2 id="folders-title">Smart folders</h2>
        <ul className="plain">
          {(folders.data?.smartFolders ?? []).map((f) => (
            <li key={f.id}>
              <Link to={`/computers?smartFolderId=${encodeURIComponent(f.id)}`}>{f.name}</Link>{' '}
              <Link className="small" to={`/smart-folders/${encodeURIComponent(f.id)}`} aria-label={`Edit ${f.name}`}>
                edit
              </Link>
            </li>
          ))}
        </ul>
        {folders.data?.smartFolders.length === 0 ? <p className="muted">No smart folders yet.</p> : null}
      </section>
    </>
  );
}
