import type { Policy } from '@palisade/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { PatchPicker } from '../components/patch-picker.tsx';
import { ErrorMessage, QueryState } from '../components/query-state.tsx';
import { MODULES } from '../format.ts';
import { useApi, useSessionContext } from '../session.tsx';

interface ModuleOverride {
  enabled?: boolean;
  mode?: string;
  settings?: Record<string, unknown>;
}
interface Settings {
  heartbeatSeconds?: number;
  recommendations?: string;
  modules?: Record<string, ModuleOverride>;
  [k: string]: unknown;
}

/** The policy tree on the left, the selected policy's editor on the right. */
export function PoliciesPage() {
  const { id } = useParams();
  const api = useApi();
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => api.listPolicies() });
  const list = policies.data?.policies ?? [];
  return (
    <>
      <h1>Policies</h1>
      <QueryState isLoading={policies.isLoading} error={policies.error} what="policies" />
      <div className="split">
        <nav aria-label="Policy tree" className="card tree">
          <PolicyTree list={list} parentId={null} selected={id} />
          <NewPolicy list={list} parentId={id ?? null} />
        </nav>
        <div>{id ? <PolicyEditor key={id} id={id} list={list} /> : <p className="muted">Choose a policy in the tree.</p>}</div>
      </div>
    </>
  );
}

function PolicyTree({ list, parentId, selected }: { list: Policy[]; parentId: string | null; selected: string | undefined }) {
  const children = list.filter(
    (p) => p.parentId === parentId || (parentId === null && p.parentId && !list.some((q) => q.id === p.parentId)),
  );
  if (children.length === 0) return null;
  return (
    <ul className="tree-level">
      {children.map((p) => (
        <li key={p.id}>
          <Link to={`/policies/${encodeURIComponent(p.id)}`} aria-current={p.id === selected ? 'page' : undefined}>
            {p.name}
          </Link>
          <PolicyTree list={list} parentId={p.id} selected={selected} />
        </li>
      ))}
    </ul>
  );
}

function NewPolicy({ list, parentId }: { list: Policy[]; parentId: string | null }) {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => api.createPolicy({ name, parentId }),
    onSuccess: async (p) => {
      setName('');
      await qc.invalidateQueries({ queryKey: ['policies'] });
      navigate(`/policies/${encodeURIComponent(p.id)}`);
    },
  });
  if (!can('operator')) return null;
  const parent = list.find((p) => p.id === parentId);
  return (
    <form
      className="new-policy"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <label htmlFor="new-policy-name">{parent ? `New child of ${parent.name}` : 'New top-level policy'}</label>
      <input id="new-policy-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      <button type="submit" disabled={create.isPending}>
        Create
      </button>
      <ErrorMessage error={create.error} />
    </form>
  );
}

const show = (v: unknown) => (v === undefined ? 'not set' : JSON.stringify(v));

/**
 * Edits a policy's own overrides. Every field shows what the parent chain gives (inherited) and
 * whether this policy overrides it; "Inherit" removes the override.
 */
function PolicyEditor({ id, list }: { id: string; list: Policy[] }) {
  const api = useApi();
  const { can } = useSessionContext();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const policy = useQuery({ queryKey: ['policy', id], queryFn: () => api.getPolicy(id) });
  const parentId = policy.data?.parentId ?? null;
  // What this policy would get without its own overrides: its parent's effective config.
  const inherited = useQuery({
    queryKey: ['policy-effective', parentId],
    enabled: !!parentId,
    queryFn: () => api.policyEffective(parentId!),
  });
  const effective = useQuery({ queryKey: ['policy-effective', id], queryFn: () => api.policyEffective(id) });
  const [draft, setDraft] = useState<Settings>({});
  const [meta, setMeta] = useState({ name: '', description: '', parentId: '' });
  const [jsonText, setJsonText] = useState<Record<string, string>>({});
  const [jsonError, setJsonError] = useState('');
  useEffect(() => {
    if (!policy.data) return;
    const s = policy.data.settings as Settings;
    setDraft(structuredClone(s));
    setMeta({ name: policy.data.name, description: policy.data.description, parentId: policy.data.parentId ?? '' });
    setJsonText(
      Object.fromEntries(MODULES.map((m) => [m, s.modules?.[m]?.settings ? JSON.stringify(s.modules[m].settings, null, 2) : ''])),
    );
  }, [policy.data]);

  const save = useMutation({
    mutationFn: (settings: Settings) =>
      api.updatePolicy(id, { name: meta.name, description: meta.description, parentId: meta.parentId || null, settings }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['policies'] });
      await qc.invalidateQueries({ queryKey: ['policy', id] });
      await qc.invalidateQueries({ queryKey: ['policy-effective'] });
      await qc.invalidateQueries({ queryKey: ['effective-config'] });
    },
  });
  const del = useMutation({
    mutationFn: () => api.deletePolicy(id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['policies'] });
      navigate('/policies');
    },
  });

  if (!policy.data) return <QueryState isLoading={policy.isLoading} error={policy.error} what="policy" />;
  const base = (inherited.data?.config ?? {}) as Settings & { modules?: Record<string, ModuleOverride> };
  const readOnly = !can('operator');

  const setModule = (m: string, patch: Partial<ModuleOverride>, remove?: keyof ModuleOverride) =>
    setDraft((d) => {
      const modules = { ...(d.modules ?? {}) };
      const cur: ModuleOverride = { ...(modules[m] ?? {}), ...patch };
      if (remove) delete cur[remove];
      if (Object.keys(cur).length) modules[m] = cur;
      else delete modules[m];
      const next: Settings = { ...d, modules };
      if (Object.keys(modules).length === 0) delete next.modules;
      return next;
    });
  const setTop = (k: 'heartbeatSeconds' | 'recommendations', v: number | string | undefined) =>
    setDraft((d) => {
      const next = { ...d };
      if (v === undefined || v === '') delete next[k];
      else next[k] = v as never;
      return next;
    });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setJsonError('');
    const settings = structuredClone(draft);
    for (const m of MODULES) {
      const text = (jsonText[m] ?? '').trim();
      const mod = { ...(settings.modules?.[m] ?? {}) };
      if (text) {
        try {
          mod.settings = JSON.parse(text) as Record<string, unknown>;
        } catch (err) {
          setJsonError(`${m} settings are not valid JSON: ${(err as Error).message}`);
          return;
        }
      } else delete mod.settings;
      settings.modules = { ...(settings.modules ?? {}) };
      if (Object.keys(mod).length) settings.modules[m] = mod;
      else delete settings.modules[m];
    }
    if (settings.modules && Object.keys(settings.modules).length === 0) delete settings.modules;
    save.mutate(settings);
  };

  return (
    <form className="card policy-editor" onSubmit={submit} aria-label={`Policy ${policy.data.name}`}>
      <h2>{policy.data.name}</h2>
      <div className="form-grid">
        <label>
          Name
          <input value={meta.name} onChange={(e) => setMeta({ ...meta, name: e.target.value })} disabled={readOnly} required />
        </label>
        <label>
          Parent
          <select value={meta.parentId} onChange={(e) => setMeta({ ...meta, parentId: e.target.value })} disabled={readOnly}>
            <option value="">(top level)</option>
            {list
              .filter((p) => p.id !== id)
              .map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
          </select>
        </label>
        <label className="wide">
          Description
          <input value={meta.description} onChange={(e) => setMeta({ ...meta, description: e.target.value })} disabled={readOnly} />
        </label>
      </div>

      <h3>General</h3>
      <div className="setting-row">
        <label htmlFor="hb">Heartbeat (seconds)</label>
        <input
          id="hb"
          type="number"
          min={1}
          max={3600}
          value={draft.heartbeatSeconds ?? ''}
          placeholder={`inherit (${show(base.heartbeatSeconds)})`}
          onChange={(e) => setTop('heartbeatSeconds', e.target.value === '' ? undefined : Number(e.target.value))}
          disabled={readOnly}
        />
        <OverrideNote
          overridden={draft.heartbeatSeconds !== undefined}
          inherited={base.heartbeatSeconds}
          onReset={() => setTop('heartbeatSeconds', undefined)}
          readOnly={readOnly}
          label="heartbeat"
        />
      </div>
      <div className="setting-row">
        <label htmlFor="recmode">Recommendation scans</label>
        <select
          id="recmode"
          value={draft.recommendations ?? ''}
          onChange={(e) => setTop('recommendations', e.target.value)}
          disabled={readOnly}
        >
          <option value="">inherit</option>
          <option value="off">off</option>
          <option value="report">report</option>
          <option value="auto">auto (assign and remove rules)</option>
        </select>
        <OverrideNote
          overridden={draft.recommendations !== undefined}
          inherited={base.recommendations}
          onReset={() => setTop('recommendations', undefined)}
          readOnly={readOnly}
          label="recommendation mode"
        />
      </div>

      <h3>Modules</h3>
      {MODULES.map((m) => {
        const own = draft.modules?.[m] ?? {};
        const inh = base.modules?.[m] ?? {};
        return (
          <fieldset key={m} className="module-settings">
            <legend>{m}</legend>
            <div className="setting-row">
              <label htmlFor={`${m}-enabled`}>Enabled</label>
              <select
                id={`${m}-enabled`}
                value={own.enabled === undefined ? '' : String(own.enabled)}
                onChange={(e) =>
                  e.target.value === '' ? setModule(m, {}, 'enabled') : setModule(m, { enabled: e.target.value === 'true' })
                }
                disabled={readOnly}
              >
                <option value="">inherit</option>
                <option value="true">yes</option>
                <option value="false">no</option>
              </select>
              <OverrideNote
                overridden={own.enabled !== undefined}
                inherited={inh.enabled}
                onReset={() => setModule(m, {}, 'enabled')}
                readOnly={readOnly}
                label={`${m} enabled`}
              />
            </div>
            <div className="setting-row">
              <label htmlFor={`${m}-mode`}>Mode</label>
              <select
                id={`${m}-mode`}
                value={own.mode ?? ''}
                onChange={(e) => (e.target.value === '' ? setModule(m, {}, 'mode') : setModule(m, { mode: e.target.value }))}
                disabled={readOnly}
              >
                <option value="">inherit</option>
                <option value="off">off</option>
                <option value="detect">detect</option>
                <option value="prevent">prevent</option>
              </select>
              <OverrideNote
                overridden={own.mode !== undefined}
                inherited={inh.mode}
                onReset={() => setModule(m, {}, 'mode')}
                readOnly={readOnly}
                label={`${m} mode`}
              />
            </div>
            {m === 'ips' ? (
              <PatchPicker jsonText={jsonText[m] ?? ''} onChange={(text) => setJsonText({ ...jsonText, [m]: text })} readOnly={readOnly} />
            ) : null}
            <details>
              <summary>Module settings (JSON){jsonText[m] ? ' — overridden' : ''}</summary>
              <label htmlFor={`${m}-json`}>Own settings of {m} (empty: inherit)</label>
              <textarea
                id={`${m}-json`}
                rows={6}
                value={jsonText[m] ?? ''}
                onChange={(e) => setJsonText({ ...jsonText, [m]: e.target.value })}
                disabled={readOnly}
                spellCheck={false}
              />
              <p className="muted small">
                Inherited: <code>{show(inh.settings)}</code>
              </p>
            </details>
          </fieldset>
        );
      })}
      {!readOnly ? (
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            Save policy
          </button>
          <button type="button" className="danger" onClick={() => confirm(`Delete policy ${policy.data.name}?`) && del.mutate()}>
            Delete
          </button>
        </div>
      ) : null}
      {jsonError ? (
        <p role="alert" className="error">
          {jsonError}
        </p>
      ) : null}
      <ErrorMessage error={save.error ?? del.error} />
      {save.isSuccess ? <p role="status">Saved. Agents on this policy pick it up on their next heartbeat.</p> : null}
      <details>
        <summary>Effective configuration of this policy</summary>
        <p className="muted small">Chain: {effective.data?.chain?.map((p) => p.name).join(' → ')}</p>
        <pre>{JSON.stringify(effective.data?.config ?? {}, null, 2)}</pre>
      </details>
    </form>
  );
}

function OverrideNote({
  overridden,
  inherited,
  onReset,
  readOnly,
  label,
}: {
  overridden: boolean;
  inherited: unknown;
  onReset: () => void;
  readOnly: boolean;
  label: string;
}) {
  return (
    <span className="override-note">
      {overridden ? <span className="badge badge-overridden">overridden</span> : <span className="badge badge-inherited">inherited</span>}{' '}
      <span className="muted small">parent: {show(inherited)}</span>
      {overridden && !readOnly ? (
        <button type="button" className="link" onClick={onReset} aria-label={`Reset ${label} to inherited`}>
          Inherit
        </button>
      ) : null}
    </span>
  );
}
