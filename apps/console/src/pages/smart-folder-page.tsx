import type { Computer } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Badge } from '../components/badge.tsx';
import { DataTable } from '../components/data-table.tsx';
import { QueryBuilder } from '../components/query-builder.tsx';
import { cleanQuery, type Group } from '../smart-folder-query.ts';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { useApi, useSessionContext } from '../session.tsx';

const col = createColumnHelper<Computer>();
const memberColumns = [
  col.accessor('hostname', {
    header: 'Hostname',
    cell: (c) => <Link to={`/computers/${encodeURIComponent(c.row.original.id)}`}>{c.getValue()}</Link>,
  }),
  col.accessor('status', { header: 'Status', cell: (c) => <Badge value={c.getValue()} /> }),
  col.accessor('platform', { header: 'Platform' }),
  col.accessor((c) => c.ips.join(', '), { id: 'ips', header: 'IP addresses' }),
];

/** Create or edit a smart folder with the query builder, and see the computers it matches now. */
export function SmartFolderPage() {
  const { id } = useParams();
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const folder = useQuery({ queryKey: ['smart-folder', id], enabled: !!id, queryFn: () => api.getSmartFolder(id!) });
  const members = useQuery({ queryKey: ['smart-folder-computers', id], enabled: !!id, queryFn: () => api.smartFolderComputers(id!) });
  const [name, setName] = useState('');
  const [query, setQuery] = useState<Group>({ all: [{ field: 'hostname', op: 'contains', value: '' }] });
  useEffect(() => {
    if (folder.data) {
      setName(folder.data.name);
      setQuery(folder.data.query as Group);
    }
  }, [folder.data]);

  const save = useMutation({
    mutationFn: () => {
      const q = cleanQuery(query);
      return id ? api.updateSmartFolder(id, { name, query: q }) : api.createSmartFolder({ name, query: q });
    },
    onSuccess: async (f) => {
      await qc.invalidateQueries({ queryKey: ['smart-folders'] });
      await qc.invalidateQueries({ queryKey: ['smart-folder-computers', f.id] });
      await qc.invalidateQueries({ queryKey: ['smart-folder', f.id] });
      if (!id) navigate(`/smart-folders/${encodeURIComponent(f.id)}`, { replace: true });
    },
  });
  const del = useMutation({
    mutationFn: () => api.deleteSmartFolder(id!),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['smart-folders'] });
      navigate('/computers');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <>
      <h1>{id ? `Smart folder: ${folder.data?.name ?? ''}` : 'New smart folder'}</h1>
      {id ? <QueryState isLoading={folder.isLoading} error={folder.error} what="smart folder" /> : null}
      <form className="card" onSubmit={submit} aria-label="Smart folder">
        <label htmlFor="sf-name">Name</label>
        <input id="sf-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} disabled={!can('operator')} />
        <QueryBuilder value={query} onChange={setQuery} />
        {can('operator') ? (
          <div className="actions">
            <button type="submit" disabled={save.isPending}>
              {id ? 'Save' : 'Create'}
            </button>
            {id ? (
              <button type="button" className="danger" onClick={() => confirm('Delete this smart folder?') && del.mutate()}>
                Delete
              </button>
            ) : null}
          </div>
        ) : null}
        <ErrorMessage error={save.error ?? del.error} />
        {save.isSuccess ? <p role="status">Saved.</p> : null}
      </form>
      {id ? (
        <section aria-labelledby="members-title">
          <h2 id="members-title">Computers in this folder now</h2>
          <QueryState isLoading={members.isLoading} error={members.error} what="members" />
          {members.data ? (
            <>
              <p className="muted" data-testid="member-count">
                {members.data.computers.length} computer(s)
              </p>
              <DataTable data={members.data.computers} columns={memberColumns} caption="Computers in this folder" rowKey={(c) => c.id} />
            </>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
