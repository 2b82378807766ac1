import type { Forwarder } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Badge } from '../components/badge.tsx';
import { DataTable } from '../components/data-table.tsx';
import { JsonCreateForm } from '../components/json-create-form.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { ago } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

const EXAMPLE = {
  name: 'SIEM (CEF over TLS)',
  type: 'syslog',
  settings: { host: 'siem.example.internal', port: 6514, transport: 'tls', format: 'cef' },
  filter: { minSeverity: 'medium' },
};
const col = createColumnHelper<Forwarder>();

/** Event forwarders: where events go, whether delivery keeps up, and a test send. */
export function ForwardersPage() {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['forwarders'], queryFn: () => api.listForwarders() });
  const refresh = () => qc.invalidateQueries({ queryKey: ['forwarders'] });
  const toggle = useMutation({ mutationFn: (f: Forwarder) => api.setForwarderEnabled(f.id, !f.enabled), onSuccess: refresh });
  const test = useMutation({ mutationFn: (f: Forwarder) => api.testForwarder(f.id) });
  const columns = [
    col.accessor('name', { header: 'Name' }),
    col.accessor('type', { header: 'Type' }),
    col.accessor((f) => (f.enabled ? 'enabled' : 'paused'), { id: 'state', header: 'State', cell: (c) => <Badge value={c.getValue()} /> }),
    col.accessor((f) => JSON.stringify(f.filter), { id: 'filter', header: 'Filter', cell: (c) => <code>{c.getValue()}</code> }),
    col.accessor((f) => `${f.delivery.pending} pending, ${f.delivery.failures} failures`, { id: 'delivery', header: 'Delivery' }),
    col.accessor((f) => f.delivery.lastSuccessAt, { id: 'last', header: 'Last delivered', cell: (c) => ago(c.getValue()) }),
    col.accessor((f) => f.delivery.lastError ?? '', { id: 'error', header: 'Last error' }),
    col.display({
      id: 'actions',
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (c) =>
        can('operator') ? (
          <>
            <button type="button" className="link" onClick={() => toggle.mutate(c.row.original)}>
              {c.row.original.enabled ? 'Pause' : 'Resume'}
            </button>
            <button type="button" className="link" onClick={() => test.mutate(c.row.original)}>
              Send test event
            </button>
          </>
        ) : null,
    }),
  ];
  return (
    <>
      <h1>Event forwarders</h1>
      <QueryState isLoading={list.isLoading} error={list.error} what="forwarders" />
      {list.data ? <DataTable data={list.data.forwarders} columns={columns} caption="Event forwarders" rowKey={(f) => f.id} /> : null}
      <ErrorMessage error={toggle.error ?? test.error} />
      {test.data ? (
        <p role="status">
          {test.data.delivered
            ? 'The receiver took the test event.'
            : `The test event was not delivered: ${test.data.error ?? 'unknown error'}`}
        </p>
      ) : null}
      {can('operator') ? (
        <JsonCreateForm title="New forwarder" example={EXAMPLE} create={api.createForwarder} onCreated={() => void refresh()} />
      ) : null}
    </>
  );
}
