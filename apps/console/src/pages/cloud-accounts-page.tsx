import type { CloudAccount } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { useState } from 'react';
import { Badge } from '../components/badge.tsx';
import { DataTable } from '../components/data-table.tsx';
import { JsonCreateForm } from '../components/json-create-form.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { ago } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

const EXAMPLE = { name: 'production', authType: 'instance-role', regions: ['eu-west-1'], syncIntervalSeconds: 300 };
const col = createColumnHelper<CloudAccount>();

/** AWS accounts: their last sync, a sync now, and the instances found. */
export function CloudAccountsPage() {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['cloud-accounts'], queryFn: () => api.listCloudAccounts() });
  const [open, setOpen] = useState<string | null>(null);
  const instances = useQuery({ queryKey: ['cloud-instances', open], enabled: !!open, queryFn: () => api.cloudInstances(open!) });
  const refresh = () => qc.invalidateQueries({ queryKey: ['cloud-accounts'] });
  const sync = useMutation({ mutationFn: (id: string) => api.syncCloudAccount(id), onSuccess: refresh });
  const columns = [
    col.accessor('name', { header: 'Name' }),
    col.accessor((a) => a.awsAccountId ?? '—', { id: 'aws', header: 'AWS account' }),
    col.accessor('authType', { header: 'Authentication' }),
    col.accessor((a) => a.regions.join(', '), { id: 'regions', header: 'Regions' }),
    col.accessor((a) => a.lastSyncStatus ?? 'never', { id: 'status', header: 'Last sync', cell: (c) => <Badge value={c.getValue()} /> }),
    col.accessor('lastSyncAt', { header: 'Synced', cell: (c) => ago(c.getValue()) }),
    col.accessor((a) => a.lastSyncError ?? '', { id: 'error', header: 'Error' }),
    col.display({
      id: 'actions',
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (c) => (
        <>
          <button type="button" className="link" onClick={() => setOpen(c.row.original.id)}>
            Instances
          </button>
          {can('operator') ? (
            <button type="button" className="link" onClick={() => sync.mutate(c.row.original.id)} disabled={sync.isPending}>
              Sync now
            </button>
          ) : null}
        </>
      ),
    }),
  ];
  return (
    <>
      <h1>Cloud accounts</h1>
      <QueryState isLoading={list.isLoading} error={list.error} what="cloud accounts" />
      {list.data ? <DataTable data={list.data.cloudAccounts} columns={columns} caption="Cloud accounts" rowKey={(a) => a.id} /> : null}
      <ErrorMessage error={sync.error} />
      {open ? (
        <section className="card" aria-labelledby="instances-title">
          <h2 id="instances-title">Instances of {list.data?.cloudAccounts.find((a) => a.id === open)?.name}</h2>
          <QueryState isLoading={instances.isLoading} error={instances.error} what="instances" />
          <pre>{instances.data ? JSON.stringify(instances.data.instances, null, 2) : ''}</pre>
        </section>
      ) : null}
      {can('admin') ? (
        <JsonCreateForm title="Add an AWS account" example={EXAMPLE} create={api.createCloudAccount} onCreated={() => void refresh()} />
      ) : null}
    </>
  );
}
