import type { Playbook, PlaybookActionRecord } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { DataTable } from '../components/data-table.tsx';
import { JsonCreateForm } from '../components/json-create-form.tsx';
import { Badge } from '../components/badge.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { when } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

const EXAMPLE = {
  name: 'Block web attackers',
  description: 'Three blocked IPS requests from one address in five minutes: block it on every web server for an hour',
  enabled: false,
  trigger: { filter: { modules: ['ips'], types: ['ips.blocked'] }, threshold: 3, windowSeconds: 300, groupBy: 'attacker' },
  actions: [{ type: 'firewall-block-ip', targets: 'source', durationSeconds: 3600 }],
  safeguards: { allowList: ['10.0.0.0/8'], maxRunsPerHour: 20 },
};

const pcol = createColumnHelper<Playbook>();
const acol = createColumnHelper<PlaybookActionRecord>();

/** Response playbooks: what triggers them, what they do, and every action they took (with undo). */
export function PlaybooksPage() {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const playbooks = useQuery({ queryKey: ['playbooks'], queryFn: () => api.listPlaybooks() });
  const actions = useQuery({ queryKey: ['playbook-actions'], queryFn: () => api.listPlaybookActions({ limit: 100 }) });
  const refresh = () => qc.invalidateQueries({ queryKey: ['playbooks'] });
  const toggle = useMutation({ mutationFn: (p: Playbook) => api.updatePlaybook(p.id, { enabled: !p.enabled }), onSuccess: refresh });
  const undo = useMutation({
    mutationFn: (id: string) => api.undoPlaybookAction(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['playbook-actions'] }),
  });
  const names = new Map((playbooks.data?.playbooks ?? []).map((p) => [p.id, p.name]));
  const columns = [
    pcol.accessor('name', { header: 'Name' }),
    pcol.accessor((p) => (p.enabled ? 'enabled' : 'disabled'), {
      id: 'state',
      header: 'State',
      cell: (c) => <Badge value={c.getValue()} />,
    }),
    pcol.accessor(
      (p) =>
        `${p.trigger.threshold ?? 1}× ${[...(p.trigger.filter.modules ?? []), ...(p.trigger.filter.types ?? [])].join(' ') || 'any event'} in ${p.trigger.windowSeconds ?? 60} s by ${p.trigger.groupBy ?? 'attacker'}`,
      { id: 'trigger', header: 'Trigger' },
    ),
    pcol.accessor((p) => p.actions.map((a) => a.type).join(', '), { id: 'actions', header: 'Actions' }),
    pcol.display({
      id: 'toggle',
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (c) =>
        can('operator') ? (
          <button type="button" className="link" onClick={() => toggle.mutate(c.row.original)}>
            {c.row.original.enabled ? 'Disable' : 'Enable'} <span className="visually-hidden">{c.row.original.name}</span>
          </button>
        ) : null,
    }),
  ];
  const actionColumns = [
    acol.accessor('createdAt', { header: 'Time', cell: (c) => when(c.getValue()) }),
    acol.accessor((a) => names.get(a.playbookId) ?? a.playbookId, { id: 'playbook', header: 'Playbook' }),
    acol.accessor('actionType', { header: 'Action' }),
    acol.accessor('status', { header: 'Status', cell: (c) => <Badge value={c.getValue()} /> }),
    acol.accessor((a) => JSON.stringify(a.inputs), { id: 'inputs', header: 'Inputs', cell: (c) => <code>{c.getValue()}</code> }),
    acol.accessor((a) => a.error ?? '', { id: 'error', header: 'Error' }),
    acol.display({
      id: 'undo',
      header: () => <span className="visually-hidden">Undo</span>,
      cell: (c) =>
        can('operator') && c.row.original.status === 'succeeded' ? (
          <button type="button" className="link" onClick={() => undo.mutate(c.row.original.id)}>
            Undo
          </button>
        ) : null,
    }),
  ];
  return (
    <>
      <h1>Playbooks</h1>
      <QueryState isLoading={playbooks.isLoading} error={playbooks.error} what="playbooks" />
      {playbooks.data ? <DataTable data={playbooks.data.playbooks} columns={columns} caption="Playbooks" rowKey={(p) => p.id} /> : null}
      <ErrorMessage error={toggle.error ?? undo.error} />
      {can('operator') ? (
        <JsonCreateForm title="New playbook" example={EXAMPLE} create={api.createPlaybook} onCreated={() => void refresh()} />
      ) : null}
      <h2>What playbooks did</h2>
      <QueryState isLoading={actions.isLoading} error={actions.error} what="playbook actions" />
      {actions.data ? (
        <DataTable
          data={actions.data.actions}
          columns={actionColumns}
          caption="Playbook actions"
          rowKey={(a) => a.id}
          empty="No playbook has acted yet."
        />
      ) : null}
    </>
  );
}
