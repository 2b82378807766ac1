import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ErrorMessage } from './query-state.tsx';

/**
 * Creates a resource from a JSON body, for resources whose shape is richer than a form is worth
 * (playbooks, forwarders, cloud accounts): the example is the API's own request body, and the
 * manager's validation answers point at the field at fault.
 */
export function JsonCreateForm<T>({
  title,
  example,
  create,
  onCreated,
}: {
  title: string;
  example: unknown;
  create: (body: never) => Promise<T>;
  onCreated: (created: T) => void;
}) {
  const id = useId();
  const [text, setText] = useState(() => JSON.stringify(example, null, 2));
  const [parseError, setParseError] = useState('');
  const m = useMutation({ mutationFn: (body: unknown) => create(body as never), onSuccess: onCreated });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParseError('');
    try {
      m.mutate(JSON.parse(text));
    } catch (err) {
      setParseError(`Not valid JSON: ${(err as Error).message}`);
    }
  };
  return (
    <details className="card">
      <summary>{title}</summary>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-body`}>Request body (JSON)</label>
        <textarea id={`${id}-body`} rows={14} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
        <div className="actions">
          <button type="submit" disabled={m.isPending}>
            Create
          </button>
        </div>
        {parseError ? (
          <p role="alert" className="error">
            {parseError}
          </p>
        ) : null}
        <ErrorMessage error={m.error} />
      </form>
    </details>
  );
}
