import { useId } from 'react';
import { type Condition, type Group, isGroup, itemsOf, type Node, withItems } from '../smart-folder-query.ts';

export const FIELDS = ['hostname', 'platform', 'policy', 'status', 'group', 'agentVersion', 'ip', 'tag:'] as const;
export const OPS: Array<{ op: string; label: string }> = [
  { op: 'equals', label: 'equals' },
  { op: 'notEquals', label: 'does not equal' },
  { op: 'contains', label: 'contains' },
  { op: 'notContains', label: 'does not contain' },
  { op: 'anyValue', label: 'has any value' },
  { op: 'inCidr', label: 'is in CIDR' },
];
// Past two levels a query is easier to write as two folders; the API allows four.
const MAX_DEPTH = 2;

/** An editable AND/OR group; every control is a labelled form field, so it works by keyboard. */
export function QueryBuilder({ value, onChange, depth = 0 }: { value: Group; onChange: (g: Group) => void; depth?: number }) {
  const id = useId();
  const items = itemsOf(value);
  const setItem = (i: number, n: Node) =>
    onChange(
      withItems(
        value,
        items.map((x, j) => (j === i ? n : x)),
      ),
    );
  const remove = (i: number) =>
    onChange(
      withItems(
        value,
        items.filter((_, j) => j !== i),
      ),
    );
  return (
    <fieldset className={`qb-group depth-${depth}`}>
      <legend>
        <label htmlFor={`${id}-mode`}>{depth === 0 ? 'Computers matching' : 'Group matching'}</label>{' '}
        <select
          id={`${id}-mode`}
          value={'all' in value ? 'all' : 'any'}
          onChange={(e) => onChange(e.target.value === 'all' ? { all: items } : { any: items })}
        >
          <option value="all">all of</option>
          <option value="any">any of</option>
        </select>
      </legend>
      {items.map((n, i) =>
        isGroup(n) ? (
          <div key={i} className="qb-nested">
            <QueryBuilder value={n} onChange={(g) => setItem(i, g)} depth={depth + 1} />
            <button type="button" className="secondary" onClick={() => remove(i)}>
              Remove group
            </button>
          </div>
        ) : (
          <ConditionRow key={i} index={i} cond={n} onChange={(c) => setItem(i, c)} onRemove={() => remove(i)} />
        ),
      )}
      <div className="qb-actions">
        <button
          type="button"
          className="secondary"
          onClick={() => onChange(withItems(value, [...items, { field: 'hostname', op: 'contains', value: '' }]))}
        >
          Add condition
        </button>
        {depth < MAX_DEPTH ? (
          <button type="button" className="secondary" onClick={() => onChange(withItems(value, [...items, { any: [] }]))}>
            Add group
          </button>
        ) : null}
      </div>
    </fieldset>
  );
}

function ConditionRow({
  cond,
  index,
  onChange,
  onRemove,
}: {
  cond: Condition;
  index: number;
  onChange: (c: Condition) => void;
  onRemove: () => void;
}) {
  const id = useId();
  const isTag = cond.field.startsWith('tag:');
  const base = isTag ? 'tag:' : cond.field;
  return (
    <div className="qb-row" role="group" aria-label={`Condition ${index + 1}`}>
      <label htmlFor={`${id}-field`} className="visually-hidden">
        Field
      </label>
      <select
        id={`${id}-field`}
        value={base}
        onChange={(e) => onChange({ ...cond, field: e.target.value === 'tag:' ? 'tag:Name' : e.target.value })}
      >
        {FIELDS.map((f) => (
          <option key={f} value={f}>
            {f === 'tag:' ? 'tag…' : f}
          </option>
        ))}
      </select>
      {isTag ? (
        <>
          <label htmlFor={`${id}-tag`} className="visually-hidden">
            Tag key
          </label>
          <input
            id={`${id}-tag`}
            placeholder="tag key"
            value={cond.field.slice(4)}
            onChange={(e) => onChange({ ...cond, field: `tag:${e.target.value}` })}
          />
        </>
      ) : null}
      <label htmlFor={`${id}-op`} className="visually-hidden">
        Operator
      </label>
      <select id={`${id}-op`} value={cond.op} onChange={(e) => onChange({ ...cond, op: e.target.value })}>
        {OPS.map((o) => (
          <option key={o.op} value={o.op}>
            {o.label}
          </option>
        ))}
      </select>
      {cond.op !== 'anyValue' ? (
        <>
          <label htmlFor={`${id}-value`} className="visually-hidden">
            Value
          </label>
          <input
            id={`${id}-value`}
            placeholder="value"
            value={cond.value ?? ''}
            onChange={(e) => onChange({ ...cond, value: e.target.value })}
          />
        </>
      ) : null}
      <button type="button" className="secondary" onClick={onRemove} aria-label={`Remove condition ${index + 1}`}>
        Remove
      </button>
    </div>
  );
}
