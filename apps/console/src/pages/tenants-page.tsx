import type { Tenant } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { DataTable } from '../components/data-table.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { when } from '../format.ts';
import { useApi } from '../session.tsx';

const col = createColumnHelper<Tenant>();

/** Tenants, for the primary tenant's admins: create one and its first admin key. */
export function TenantsPage() {
  const api = useApi();
  const qc = useQueryClient();
  const tenants = useQuery({ queryKey: ['tenants'], queryFn: () => api.listTenants() });
  const [form, setForm] = useState({ id: '', name: '' });
  const create = useMutation({
    mutationFn: async () => {
      const t = await api.createTenant(form);
      return api.createTenantApiKey(t.id, { name: 'first admin', role: 'admin' });
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tenants'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const columns = [
    col.accessor('id', { header: 'Id' }),
    col.accessor('name', { header: 'Name' }),
    col.accessor('status', { header: 'Status' }),
    col.accessor('createdAt', { header: 'Created', cell: (c) => when(c.getValue()) }),
  ];
  return (
    <>
      <h1>Tenants</h1>
      <form className="card form-grid" onSubmit={submit} aria-label="New tenant">
        <label>
          Id
          <input value={form.id} onChange={(e) => setForm({ ...form, id: e.target.value })} required pattern="[a-z][a-z0-9-]*" />
        </label>
        <label>
          Name
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Create tenant
          </button>
        </div>
        <ErrorMessage error={create.error} />
      </form>
      {create.data ? <SecretOnce label="First admin API key of the new tenant" value={create.data.secret} /> : null}
      <QueryState isLoading={tenants.isLoading} error={tenants.error} what="tenants" />
      {tenants.data ? <DataTable data={tenants.data.tenants} columns={columns} caption="Tenants" rowKey={(t) => t.id} /> : null}
    </>
  );
}
