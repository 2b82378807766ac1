import type { ActivationToken } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { type FormEvent, useState } from 'react';
import { DataTable } from '../components/data-table.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { when } from '../format.ts';
import { useApi } from '../session.tsx';

const col = createColumnHelper<ActivationToken>();

export function TokensPage() {
  const api = useApi();
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => api.listTokens() });
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => api.listPolicies() });
  const names = new Map((policies.data?.policies ?? []).map((p) => [p.id, p.name]));
  const [form, setForm] = useState({ description: '', policyId: '', group: '', ttlHours: '24', maxUses: '' });
  const create = useMutation({
    mutationFn: () =>
      api.createToken({
        ...(form.description ? { description: form.description } : {}),
        ...(form.policyId ? { policyId: form.policyId } : {}),
        ...(form.group ? { group: form.group } : {}),
        ttlSeconds: Math.round(Number(form.ttlHours) * 3600),
        ...(form.maxUses ? { maxUses: Number(form.maxUses) } : {}),
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tokens'] }),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.revokeToken(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['tokens'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const columns = [
    col.accessor('description', { header: 'Description' }),
    col.accessor((t) => (t.policyId ? (names.get(t.policyId) ?? t.policyId) : '—'), { id: 'policy', header: 'Policy' }),
    col.accessor((t) => t.group ?? '—', { id: 'group', header: 'Group' }),
    col.accessor((t) => `${t.uses}${t.maxUses ? ` / ${t.maxUses}` : ''}`, { id: 'uses', header: 'Uses' }),
    col.accessor('expiresAt', { header: 'Expires', cell: (c) => when(c.getValue()) }),
    col.accessor((t) => (t.revokedAt ? 'revoked' : new Date(t.expiresAt) < new Date() ? 'expired' : 'active'), {
      id: 'state',
      header: 'State',
    }),
    col.display({
      id: 'actions',
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (c) =>
        c.row.original.revokedAt ? null : (
          <button
            type="button"
            className="link"
            onClick={() => revoke.mutate(c.row.original.id)}
            aria-label={`Revoke token ${c.row.original.description || c.row.original.id}`}
          >
            Revoke
          </button>
        ),
    }),
  ];
  return (
    <>
      <h1>Activation tokens</h1>
      <form className="card form-grid" onSubmit={submit} aria-label="New activation token">
        <label>
          Description
          <input value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} maxLength={500} />
        </label>
        <label>
          Policy
          <select value={form.policyId} onChange={(e) => setForm({ ...form, policyId: e.target.value })}>
            <option value="">(none)</option>
            {(policies.data?.policies ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group
          <input value={form.group} onChange={(e) => setForm({ ...form, group: e.target.value })} maxLength={200} />
        </label>
        <label>
          Valid for (hours)
          <input
            type="number"
            min={1}
            max={8784}
            value={form.ttlHours}
            onChange={(e) => setForm({ ...form, ttlHours: e.target.value })}
            required
          />
        </label>
        <label>
          Maximum uses
          <input
            type="number"
            min={1}
            value={form.maxUses}
            onChange={(e) => setForm({ ...form, maxUses: e.target.value })}
            placeholder="unlimited"
          />
        </label>
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Create token
          </button>
        </div>
        <ErrorMessage error={create.error ?? revoke.error} />
      </form>
      {create.data ? <SecretOnce label="Activation token" value={create.data.token} /> : null}
      <QueryState isLoading={tokens.isLoading} error={tokens.error} what="tokens" />
      {tokens.data ? <DataTable data={tokens.data.tokens} columns={columns} caption="Activation tokens" rowKey={(t) => t.id} /> : null}
    </>
  );
}
