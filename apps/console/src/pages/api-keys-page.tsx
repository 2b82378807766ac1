import type { ApiKey, Role } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { DataTable } from '../components/data-table.tsx';
import { RoleSelect } from '../components/form-fields.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { ago, when } from '../format.ts';
import { useApi } from '../session.tsx';

const col = createColumnHelper<ApiKey>();

export function ApiKeysPage() {
  const api = useApi();
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api.listApiKeys() });
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('auditor');
  const create = useMutation({
    mutationFn: () => api.createApiKey({ name, role }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.revokeApiKey(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const columns = [
    col.accessor('name', { header: 'Name' }),
    col.accessor('role', { header: 'Role' }),
    col.accessor('createdAt', { header: 'Created', cell: (c) => when(c.getValue()) }),
    col.accessor('lastUsedAt', { header: 'Last used', cell: (c) => ago(c.getValue()) }),
    col.accessor((k) => (k.revokedAt ? `revoked ${when(k.revokedAt)}` : 'active'), { id: 'state', header: 'State' }),
    col.display({
      id: 'actions',
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (c) =>
        c.row.original.revokedAt ? null : (
          <button
            type="button"
            className="link"
            onClick={() => confirm(`Revoke API key ${c.row.original.name}?`) && revoke.mutate(c.row.original.id)}
            aria-label={`Revoke API key ${c.row.original.name}`}
          >
            Revoke
          </button>
        ),
    }),
  ];
  return (
    <>
      <h1>API keys</h1>
      <form className="card form-grid" onSubmit={submit} aria-label="New API key">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <RoleSelect value={role} onChange={setRole} adminAlso="keys" />
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Create key
          </button>
        </div>
        <ErrorMessage error={create.error ?? revoke.error} />
      </form>
      {create.data ? <SecretOnce label="API key" value={create.data.secret} /> : null}
      <QueryState isLoading={keys.isLoading} error={keys.error} what="API keys" />
      {keys.data ? <DataTable data={keys.data.apiKeys} columns={columns} caption="API keys" rowKey={(k) => k.id} /> : null}
    </>
  );
}
