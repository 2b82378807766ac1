import { ApiClientError } from '@palisade/api-client';

/** The loading and error part of a query, announced to screen readers. */
export function QueryState({ isLoading, error, what }: { isLoading: boolean; error: unknown; what: string }) {
  if (isLoading)
    return (
      <p role="status" className="muted">
        Loading {what}…
      </p>
    );
  if (error) return <ErrorMessage error={error} />;
  return null;
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const text =
    error instanceof ApiClientError
      ? `${error.message} (${error.code}${error.field ? ` at ${error.field}` : ''})`
      : String((error as Error).message ?? error);
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}
