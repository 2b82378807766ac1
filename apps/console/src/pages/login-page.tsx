import { type FormEvent, useState } from 'react';
import { ErrorMessage } from '../components/query-state.tsx';
import { useSessionContext } from '../session.tsx';

/** Login with an API key (`psk_…`); the key is kept in this tab's sessionStorage only. */
export function LoginPage() {
  const { login, endedBecause } = useSessionContext();
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(key);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">Palisade console</h1>
        <p className="muted">Sign in with an API key of your tenant. It stays in this browser tab and is forgotten when you close it.</p>
        {endedBecause ? (
          <p role="alert" className="error">
            {endedBecause}
          </p>
        ) : null}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="current-password"
          placeholder="psk_…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
          autoFocus
        />
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorMessage error={error} />
        <p className="muted small">
          The first admin key is printed by <code>npm start</code> and kept in <code>data/admin-api-key</code>.
        </p>
      </form>
    </main>
  );
}
