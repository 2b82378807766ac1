import type { ConsoleUser, EventSummary } from '@palisade/protocol';
import { type ApiTransport, fetchTransport } from './api-transport.ts';
import { PalisadeClient, type Role } from './palisade-client.ts';

/** Who is calling (`GET /api/v1/sessions/current`), or who just logged in. */
export interface SessionInfo {
  tenant: string;
  role: Role;
  kind: 'api-key' | 'session';
  username?: string;
  sessionId?: string;
  expiresAt?: string;
  idleExpiresAt?: string;
}

/** Declared in @palisade/protocol, which the manager shares. */
export type { ConsoleUser, EventSummary };

/** Sent by the console with every request it makes on a cookie session (the manager's CSRF check). */
export const CSRF_HEADER = 'x-palisade-csrf';

/**
 * For a browser logged in with the session cookie: the cookie (HttpOnly, so scripts never hold
 * the token) authenticates, so no Authorization header is sent; the CSRF header is.
 */
export function cookieSessionTransport(inner: ApiTransport = fetchTransport): ApiTransport {
  return (req) => {
    const { authorization: _dropped, ...headers } = req.headers;
    return inner({ ...req, headers: { ...headers, [CSRF_HEADER]: '1' } });
  };
}

/**
 * PalisadeClient plus console users, sessions and the dashboard summary. Used by the console
 * (which may authenticate with a session cookie instead of an API key) and the `palisade users`
 * commands; every method is a documented endpoint like the base client's.
 */
export class ConsoleClient extends PalisadeClient {
  /** A client on the browser's session cookie: no key, the CSRF header on every request. */
  static withCookie(url: string, transport?: ApiTransport): ConsoleClient {
    return new ConsoleClient({ url, apiKey: '', transport: cookieSessionTransport(transport) });
  }

  // Sessions: log in (a token, or with cookie: true the HttpOnly cookie), who am I, log out.
  createSession = (body: { tenant: string; username: string; password: string; cookie?: boolean }) =>
    this.request<SessionInfo & { token?: string }>('POST', '/api/v1/sessions', { body });
  currentSession = () => this.request<SessionInfo>('GET', '/api/v1/sessions/current');
  endSession = () => this.request<void>('DELETE', '/api/v1/sessions/current');

  // Console users of the tenant (admins)
  listUsers = () => this.request<{ users: ConsoleUser[] }>('GET', '/api/v1/users');
  getUser = (idOrUsername: string) => this.request<ConsoleUser>('GET', `/api/v1/users/${encodeURIComponent(idOrUsername)}`);
  createUser = (body: { username: string; password: string; role: Role }) => this.request<ConsoleUser>('POST', '/api/v1/users', { body });
  updateUser = (idOrUsername: string, body: { disabled?: boolean; role?: Role }) =>
    this.request<ConsoleUser>('PATCH', `/api/v1/users/${encodeURIComponent(idOrUsername)}`, { body });
  setUserPassword = (idOrUsername: string, password: string) =>
    this.request<ConsoleUser>('POST', `/api/v1/users/${encodeURIComponent(idOrUsername)}/password`, { body: { password } });

  // Dashboard aggregates over a window (default: the last 24 hours)
  eventSummary = (query: { since?: string; until?: string; top?: number } = {}) =>
    this.request<EventSummary>('GET', '/api/v1/events/summary', { query });
}
