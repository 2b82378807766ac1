import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useApi } from '../session.tsx';
import { selectedPatches, withPatches } from '../patch-selection.ts';
import { QueryState } from './query-state.tsx';

/**
 * Searchable virtual-patch assignment for a policy: the catalog the manager ships, ticked when
 * the policy's IPS settings select it. Recommendation scans add their own per computer on top.
 */
export function PatchPicker({ jsonText, onChange, readOnly }: { jsonText: string; onChange: (text: string) => void; readOnly: boolean }) {
  const api = useApi();
  const id = useId();
  const [search, setSearch] = useState('');
  const rules = useQuery({ queryKey: ['rules', 'ips'], queryFn: () => api.listRules({ module: 'ips' }) });
  let selected: string[] | undefined;
  let invalid = false;
  try {
    JSON.parse(jsonText.trim() || '{}');
    selected = selectedPatches(jsonText);
  } catch {
    invalid = true;
  }
  const chosen = new Set(selected ?? []);
  const q = search.trim().toLowerCase();
  const list = (rules.data?.rules ?? []).filter((r) => !q || `${r.id} ${r.title} ${r.cves.join(' ')}`.toLowerCase().includes(q));
  const toggle = (ruleId: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(ruleId);
    else next.delete(ruleId);
    onChange(withPatches(jsonText, [...next]));
  };
  return (
    <details className="patch-picker">
      <summary>
        Virtual patches assigned by this policy ({chosen.size}
        {selected === undefined ? ', none selected by id' : ''})
      </summary>
      <QueryState isLoading={rules.isLoading} error={rules.error} what="rules" />
      {invalid ? <p className="error">Fix the settings JSON first.</p> : null}
      <label htmlFor={`${id}-search`}>Search patches (CVE, product, id)</label>
      <input id={`${id}-search`} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      <p className="muted small">
        {list.length} of {rules.data?.rules.length ?? 0} patches
        {list.length > 100 ? '; showing the first 100, search to narrow' : ''}
      </p>
      <ul className="plain patch-list">
        {list.slice(0, 100).map((r) => (
          <li key={r.id}>
            <label className="check">
              <input
                type="checkbox"
                checked={chosen.has(r.id)}
                disabled={readOnly || invalid}
                onChange={(e) => toggle(r.id, e.target.checked)}
              />
              <span>
                <strong>{r.id}</strong> {r.title}
              </span>
            </label>
          </li>
        ))}
      </ul>
    </details>
  );
}
