import type { ScanOutcome } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { when } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';
import { ErrorMessage, QueryState } from './query-state.tsx';

/** One computer's recommendations: what is assigned, the diff of the latest scan, dry run and apply. */
export function RecommendationPanel({ computerId }: { computerId: string }) {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const current = useQuery({ queryKey: ['recommendations', computerId], queryFn: () => api.getRecommendations(computerId) });
  const [dryRun, setDryRun] = useState<ScanOutcome | null>(null);
  const refresh = async () => {
    await qc.invalidateQueries({ queryKey: ['recommendations', computerId] });
    await qc.invalidateQueries({ queryKey: ['vulnerabilities', computerId] });
    await qc.invalidateQueries({ queryKey: ['computer', computerId] });
  };
  const preview = useMutation({ mutationFn: () => api.scanRecommendations(computerId, { dryRun: true }), onSuccess: setDryRun });
  const apply = useMutation({
    mutationFn: () => api.applyRecommendations(computerId),
    onSuccess: async () => {
      setDryRun(null);
      await refresh();
    },
  });
  const scan: ScanOutcome | null = dryRun ?? current.data?.scan ?? null;
  const assigned = current.data?.assigned ?? [];

  return (
    <div className="rec-panel">
      <QueryState isLoading={current.isLoading} error={current.error} what="recommendations" />
      <div className="actions">
        <button type="button" className="secondary" onClick={() => preview.mutate()} disabled={preview.isPending}>
          Dry run
        </button>
        {can('operator') ? (
          <button type="button" onClick={() => apply.mutate()} disabled={apply.isPending}>
            Apply recommendations
          </button>
        ) : null}
      </div>
      <ErrorMessage error={preview.error ?? apply.error} />
      {apply.data ? (
        <p role="status" data-testid="apply-result">
          Applied: {apply.data.diff.assign.length} assigned, {apply.data.diff.unassign.length} removed.
        </p>
      ) : null}
      {scan ? (
        <p className="muted">
          {dryRun ? 'Dry run' : 'Latest scan'} at {when(scan.scannedAt)} · policy mode <strong>{scan.mode}</strong> · inventory from{' '}
          {when(scan.inventoryCollectedAt)}
        </p>
      ) : (
        <p className="muted">No recommendation scan yet.</p>
      )}
      <div className="grid-2">
        <section aria-labelledby={`assign-${computerId}`}>
          <h3 id={`assign-${computerId}`}>To assign</h3>
          {scan && scan.diff.assign.length ? (
            <ul className="plain diff-add">
              {scan.diff.assign.map((r) => (
                <li key={`${r.module}/${r.ruleId}`}>
                  + {r.module}/{r.ruleId} — {r.title} {r.cves.join(', ')}
                  <span className="muted small"> ({r.reasons.map((x) => `${x.package} ${x.version}`).join('; ')})</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">Nothing to assign.</p>
          )}
        </section>
        <section aria-labelledby={`unassign-${computerId}`}>
          <h3 id={`unassign-${computerId}`}>Removable</h3>
          {scan && scan.diff.unassign.length ? (
            <ul className="plain diff-remove">
              {scan.diff.unassign.map((r) => (
                <li key={`${r.module}/${r.ruleId}`}>
                  − {r.module}/{r.ruleId} — {r.reason}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">Nothing to remove.</p>
          )}
        </section>
      </div>
      <h3>Assigned now</h3>
      {assigned.length ? (
        <ul className="plain" data-testid="assigned-rules">
          {assigned.map((a) => (
            <li key={`${a.module}/${a.ruleId}`}>
              {a.module}/{a.ruleId}{' '}
              <span className="muted small">
                ({a.source}, {when(a.assignedAt)})
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No rules assigned.</p>
      )}
    </div>
  );
}
