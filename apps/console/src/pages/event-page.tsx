import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { Badge } from '../components/badge.tsx';
import { QueryState } from '../components/query-state.tsx';
import { cvesOf, outcomeOf } from '../event-outcome.ts';
import { when } from '../format.ts';
import { useApi } from '../session.tsx';

/** Keys modules use for the parts an analyst looks for first; everything else is listed below them. */
const HIGHLIGHT: Array<{ key: string; label: string }> = [
  // IPS
  { key: 'matchedData', label: 'Matched data' },
  { key: 'requestLine', label: 'Request' },
  { key: 'clientAddress', label: 'Client address' },
  { key: 'action', label: 'Action' },
  // integrity monitoring
  { key: 'kind', label: 'Entity kind' },
  { key: 'key', label: 'Entity' },
  { key: 'change', label: 'Change' },
  { key: 'from', label: 'Renamed from' },
  // log inspection
  { key: 'description', label: 'Rule description' },
  { key: 'fullLog', label: 'Log line' },
  { key: 'decoder', label: 'Decoder' },
  { key: 'programName', label: 'Program' },
  { key: 'location', label: 'Log location' },
  // others
  { key: 'path', label: 'File' },
  { key: 'url', label: 'URL' },
  { key: 'signature', label: 'Signature' },
];

/** Integrity changes carry `attributes: [{ name, before, after }]`: shown as a before/after table. */
function AttributeChanges({ attributes }: { attributes: unknown }) {
  if (!Array.isArray(attributes) || attributes.length === 0) return null;
  const rows = attributes as Array<{ name: string; before?: unknown; after?: unknown }>;
  return (
    <section className="card" aria-labelledby="changes-title">
      <h2 id="changes-title">What changed</h2>
      <div className="table-wrap">
        <table data-testid="event-attribute-changes">
          <caption className="visually-hidden">Attributes before and after</caption>
          <thead>
            <tr>
              <th scope="col">Attribute</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.name}>
                <td>{a.name}</td>
                <td>
                  <code>{JSON.stringify(a.before)}</code>
                </td>
                <td>
                  <code>{JSON.stringify(a.after)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/**
 * Integrity text diffs (`contentDiff`, docs/integrity.md): the unified diff of an opted-in
 * configuration file, secrets already replaced by `[redacted#N]` on the agent; or why none was made.
 */
function ContentDiff({ diff }: { diff: unknown }) {
  if (!diff || typeof diff !== 'object') return null;
  const d = diff as {
    status?: string;
    reason?: string;
    diff?: string;
    added?: number;
    removed?: number;
    truncated?: boolean;
    redacted?: number;
  };
  const lineClass = (line: string) =>
    line.startsWith('+++') || line.startsWith('---') || line.startsWith('@@')
      ? 'diff-line-meta'
      : line.startsWith('+')
        ? 'diff-line-add'
        : line.startsWith('-')
          ? 'diff-line-remove'
          : undefined;
  return (
    <section className="card" aria-labelledby="content-diff-title">
      <h2 id="content-diff-title">Content before and after</h2>
      {d.status === 'diff' && typeof d.diff === 'string' ? (
        <>
          <p>
            {d.added ?? 0} lines added, {d.removed ?? 0} removed
            {d.redacted ? `; ${d.redacted} secret value(s) shown as [redacted#N]` : ''}
            {d.truncated ? '; the diff was cut at 32 KiB' : ''}.
          </p>
          <pre className="content-diff" data-testid="event-content-diff">
            {d.diff.split('\n').map((line, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
              <span key={i} className={lineClass(line)}>
                {line}
                {'\n'}
              </span>
            ))}
          </pre>
        </>
      ) : (
        <p data-testid="event-content-diff-skipped">No text diff: {d.reason ?? d.status ?? 'unknown'}.</p>
      )}
    </section>
  );
}

/** Log inspection's decoded fields (`fields: { srcip, dstuser, … }`) as a two-column table. */
function DecodedFields({ fields }: { fields: unknown }) {
  if (!fields || typeof fields !== 'object' || Object.keys(fields).length === 0) return null;
  return (
    <section className="card" aria-labelledby="fields-title">
      <h2 id="fields-title">Decoded log fields</h2>
      <dl className="facts" data-testid="event-decoded-fields">
        {Object.entries(fields as Record<string, unknown>).map(([k, v]) => (
          <div key={k} className="contents">
            <dt>{k}</dt>
            <dd>
              <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Value({ v }: { v: unknown }) {
  if (v !== null && typeof v === 'object') return <pre>{JSON.stringify(v, null, 2)}</pre>;
  return <code>{String(v)}</code>;
}

export function EventPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const ev = useQuery({ queryKey: ['event', id], queryFn: () => api.getEvent(id) });
  const e = ev.data;
  const computer = useQuery({ queryKey: ['computer', e?.computerId], enabled: !!e, queryFn: () => api.getComputer(e!.computerId) });
  if (!e) return <QueryState isLoading={ev.isLoading} error={ev.error} what="event" />;
  const details = e.details ?? {};
  const cves = cvesOf(e);
  const shown = new Set(HIGHLIGHT.map((h) => h.key).concat('cves', 'attributes', 'fields', 'contentDiff'));
  return (
    <>
      <p>
        <Link to="/events">← Events</Link>
      </p>
      <h1>{e.message || e.type}</h1>
      <section className="card" aria-label="Event summary">
        <dl className="facts">
          <dt>Time</dt>
          <dd>
            <time dateTime={e.time}>{when(e.time)}</time> (received {when(e.receivedAt)})
          </dd>
          <dt>Computer</dt>
          <dd>
            <Link to={`/computers/${encodeURIComponent(e.computerId)}`}>{computer.data?.hostname ?? e.computerId}</Link>
          </dd>
          <dt>Module</dt>
          <dd>{e.module}</dd>
          <dt>Type</dt>
          <dd>{e.type}</dd>
          <dt>Severity</dt>
          <dd>
            <Badge value={e.severity} />
          </dd>
          {e.module !== 'system' ? (
            <>
              <dt>Outcome</dt>
              <dd>
                <Badge value={outcomeOf(e)} />
              </dd>
            </>
          ) : null}
          <dt>Rule</dt>
          <dd data-testid="event-rule">{e.ruleId ?? '—'}</dd>
          <dt>CVE</dt>
          <dd data-testid="event-cves">{cves.length ? cves.join(', ') : '—'}</dd>
          {HIGHLIGHT.filter((h) => details[h.key] !== undefined).map((h) => (
            <div key={h.key} className="contents">
              <dt>{h.label}</dt>
              <dd data-testid={`event-${h.key}`}>
                <Value v={details[h.key]} />
              </dd>
            </div>
          ))}
        </dl>
      </section>
      <AttributeChanges attributes={details.attributes} />
      <ContentDiff diff={details.contentDiff} />
      <DecodedFields fields={details.fields} />
      <section className="card" aria-labelledby="other-details">
        <h2 id="other-details">All details</h2>
        <dl className="facts">
          {Object.entries(details)
            .filter(([k]) => !shown.has(k))
            .map(([k, v]) => (
              <div key={k} className="contents">
                <dt>{k}</dt>
                <dd>
                  <Value v={v} />
                </dd>
              </div>
            ))}
        </dl>
        <details>
          <summary>Raw event (JSON)</summary>
          <pre>{JSON.stringify(e, null, 2)}</pre>
        </details>
      </section>
    </>
  );
}
