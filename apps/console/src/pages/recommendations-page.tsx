import type { ScanOutcome } from '@palisade/api-client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { RecommendationPanel } from '../components/recommendation-panel.tsx';
import { useApi, useSessionContext } from '../session.tsx';

/** Fleet-wide: a dry run over every computer, then per computer the diff and apply. */
export function RecommendationsPage() {
  const api = useApi();
  const { can } = useSessionContext();
  const computers = useQuery({ queryKey: ['computers', {}], queryFn: () => api.listComputers() });
  const [open, setOpen] = useState<string | null>(null);
  const [fleet, setFleet] = useState<Map<string, ScanOutcome | Error>>(new Map());
  const list = computers.data?.computers ?? [];

  const run = useMutation({
    mutationFn: async (mode: 'dry-run' | 'apply') => {
      const out = new Map<string, ScanOutcome | Error>();
      // One at a time: a scan matches a whole inventory and the manager serves everyone else too.
      for (const c of list) {
        try {
          out.set(c.id, mode === 'apply' ? await api.applyRecommendations(c.id) : await api.scanRecommendations(c.id, { dryRun: true }));
        } catch (err) {
          out.set(c.id, err as Error);
        }
        setFleet(new Map(out));
      }
      return out;
    },
  });

  const totals = [...fleet.values()].reduce(
    (t, r) => (r instanceof Error ? t : { assign: t.assign + r.diff.assign.length, unassign: t.unassign + r.diff.unassign.length }),
    { assign: 0, unassign: 0 },
  );

  return (
    <>
      <h1>Recommendations</h1>
      <p className="muted">
        A recommendation scan matches a computer's software inventory against the vulnerability data and Palisade's rules, and proposes the
        virtual patches and rules it needs (and which ones the installed fixes make removable).
      </p>
      <QueryState isLoading={computers.isLoading} error={computers.error} what="computers" />
      <div className="actions">
        <button type="button" className="secondary" onClick={() => run.mutate('dry-run')} disabled={run.isPending || list.length === 0}>
          Dry run on all computers
        </button>
        {can('operator') ? (
          <button
            type="button"
            onClick={() => confirm(`Apply recommendations on ${list.length} computer(s)?`) && run.mutate('apply')}
            disabled={run.isPending || list.length === 0}
          >
            Apply on all computers
          </button>
        ) : null}
        {fleet.size ? (
          <span role="status">
            {fleet.size}/{list.length} scanned: {totals.assign} to assign, {totals.unassign} removable
          </span>
        ) : null}
      </div>
      <ErrorMessage error={run.error} />
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Recommendations per computer</caption>
          <thead>
            <tr>
              <th scope="col">Computer</th>
              <th scope="col">To assign</th>
              <th scope="col">Removable</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => {
              const r = fleet.get(c.id);
              return (
                <tr key={c.id}>
                  <td>
                    <Link to={`/computers/${encodeURIComponent(c.id)}?tab=recommendations`}>{c.hostname}</Link>
                  </td>
                  <td>
                    {r instanceof Error ? (
                      <span className="error">{r.message}</span>
                    ) : (
                      (r?.diff.assign.map((a) => a.ruleId).join(', ') ?? '')
                    )}
                  </td>
                  <td>{r instanceof Error ? '' : (r?.diff.unassign.map((a) => a.ruleId).join(', ') ?? '')}</td>
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-expanded={open === c.id}
                      onClick={() => setOpen(open === c.id ? null : c.id)}
                    >
                      {open === c.id ? 'Hide' : 'Show'} <span className="visually-hidden">recommendations of {c.hostname}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {open ? (
        <section className="card" aria-label="Recommendations of the chosen computer">
          <h2>{list.find((c) => c.id === open)?.hostname}</h2>
          <RecommendationPanel computerId={open} />
        </section>
      ) : null}
    </>
  );
}
