import { type FormEvent, useState } from 'react';
import { ErrorMessage } from '../components/query-state.tsx';
import { LabelledInput } from '../components/form-fields.tsx';
import { Tabs } from '../components/tabs.tsx';
import { useSessionContext } from '../session.tsx';

const LOGIN_METHOD_KEY = 'palisade.loginMethod';

/**
 * Two ways in: a console user of a tenant (username and password; the manager keeps the session
 * in an HttpOnly cookie), or an API key (`psk_…`, kept in this tab's sessionStorage only).
 */
export function LoginPage() {
  const { endedBecause } = useSessionContext();
  // The tab last used in this browser tab comes back (e.g. after a revoked key ends the session).
  const [method, setMethod] = useState<'password' | 'api-key'>(() =>
    sessionStorage.getItem(LOGIN_METHOD_KEY) === 'api-key' ? 'api-key' : 'password',
  );
  return (
    <main className="login" id="main">
      <div className="card login-card">
        <h1 id="login-title">Palisade console</h1>
        {endedBecause ? (
          <p role="alert" className="error">
            {endedBecause}
          </p>
        ) : null}
        <Tabs
          selected={method}
          onSelect={(id) => {
            setMethod(id as 'password' | 'api-key');
            sessionStorage.setItem(LOGIN_METHOD_KEY, id);
          }}
          tabs={[
            { id: 'password', label: 'Username and password', render: () => <PasswordForm /> },
            { id: 'api-key', label: 'Use an API key', render: () => <ApiKeyForm /> },
          ]}
        />
      </div>
    </main>
  );
}

function useSubmit(action: () => Promise<void>) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

function PasswordForm() {
  const { loginWithPassword } = useSessionContext();
  const [tenant, setTenant] = useState('primary');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, submit } = useSubmit(() => loginWithPassword({ tenant, username, password }));
  return (
    <form onSubmit={submit}>
      <p className="muted">Sign in as a console user of your tenant. The session ends after 30 minutes without use and after 12 hours.</p>
      <LabelledInput
        id="login-tenant"
        label="Tenant"
        name="tenant"
        autoComplete="organization"
        value={tenant}
        onChange={(e) => setTenant(e.target.value)}
        required
      />
      <LabelledInput
        id="login-username"
        label="Username"
        name="username"
        autoComplete="username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        required
        autoFocus
      />
      <LabelledInput
        id="login-password"
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <button type="submit" disabled={busy || !tenant.trim() || !username.trim() || !password}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
      <ErrorMessage error={error} />
      <p className="muted small">
        An admin creates users with <code>palisade users create</code> or <code>POST /api/v1/users</code>.
      </p>
    </form>
  );
}

function ApiKeyForm() {
  const { login } = useSessionContext();
  const [key, setKey] = useState('');
  const { error, busy, submit } = useSubmit(() => login(key));
  return (
    <form onSubmit={submit}>
      <p className="muted">Sign in with an API key of your tenant. It stays in this browser tab and is forgotten when you close it.</p>
      <LabelledInput
        id="api-key"
        label="API key"
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
  );
}
