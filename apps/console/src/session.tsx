import { ApiClientError, ConsoleClient, type Role } from '@palisade/api-client';
import { detectRole, tenantOfKey } from './role-detection.ts';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';

/**
 * Two ways in. An API key lives in sessionStorage (closing the tab logs out, nothing persists on
 * disk) and is sent as a bearer token. A username/password login gets an HttpOnly session cookie
 * from the manager: the token never reaches this code, so only who is logged in (tenant, role,
 * username — no secret) is kept in sessionStorage to survive a reload.
 */
const STORAGE_KEY = 'palisade.apiKey';
const USER_SESSION_KEY = 'palisade.userSession';
export const UNAUTHORIZED_EVENT = 'palisade:unauthorized';

export interface Session {
  client: ConsoleClient;
  role: Role;
  tenant: string;
  /** Set for a username/password login (cookie session); absent for an API key. */
  username?: string;
}

interface SessionContextValue {
  session: Session | null;
  /** Why the last session ended, when the manager ended it (revoked key, expired session). */
  endedBecause: string | null;
  login(apiKey: string): Promise<void>;
  loginWithPassword(input: { tenant: string; username: string; password: string }): Promise<void>;
  logout(): void;
  /** Whether the logged-in key's role reaches `role` (admin > operator > auditor). */
  can(role: Role): boolean;
}

const SessionContext = createContext<SessionContextValue | null>(null);
const RANK: Record<Role, number> = { auditor: 0, operator: 1, admin: 2 };

function clientFor(apiKey: string): ConsoleClient {
  return new ConsoleClient({ url: window.location.origin, apiKey });
}

function restored(): Session | null {
  const user = sessionStorage.getItem(USER_SESSION_KEY);
  if (user) {
    try {
      const { tenant, role, username } = JSON.parse(user) as { tenant: string; role: Role; username: string };
      return { client: ConsoleClient.withCookie(window.location.origin), role, tenant, username };
    } catch {
      sessionStorage.removeItem(USER_SESSION_KEY); // unreadable: show the login page
    }
  }
  const key = sessionStorage.getItem(STORAGE_KEY);
  const role = sessionStorage.getItem(`${STORAGE_KEY}.role`) as Role | null;
  if (!key || !role) return null;
  return { client: clientFor(key), role, tenant: tenantOfKey(key) };
}

function forget(): void {
  sessionStorage.removeItem(STORAGE_KEY);
  sessionStorage.removeItem(`${STORAGE_KEY}.role`);
  sessionStorage.removeItem(USER_SESSION_KEY);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(restored);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);
  const queryClient = useQueryClient();

  const login = useCallback(async (apiKey: string) => {
    const key = apiKey.trim();
    const client = clientFor(key);
    const role = await detectRole(client);
    forget();
    sessionStorage.setItem(STORAGE_KEY, key);
    sessionStorage.setItem(`${STORAGE_KEY}.role`, role);
    setEndedBecause(null);
    setSession({ client, role, tenant: tenantOfKey(key) });
  }, []);

  const loginWithPassword = useCallback(async (input: { tenant: string; username: string; password: string }) => {
    const client = ConsoleClient.withCookie(window.location.origin);
    const info = await client.createSession({ ...input, tenant: input.tenant.trim(), username: input.username.trim(), cookie: true });
    // Browsers keep a Secure cookie only over HTTPS: say so instead of failing on the next page.
    await client.currentSession().catch((err: unknown) => {
      throw err instanceof ApiClientError && err.status === 401
        ? new Error(
            'The password was accepted, but this browser did not keep the session cookie: open the console over HTTPS, or use an API key.',
          )
        : err;
    });
    const s = { tenant: info.tenant, role: info.role, username: info.username ?? input.username };
    forget();
    sessionStorage.setItem(USER_SESSION_KEY, JSON.stringify(s));
    setEndedBecause(null);
    setSession({ client, ...s });
  }, []);

  const logout = useCallback(() => {
    // A cookie session is ended on the manager too (the cookie is HttpOnly: only the manager can clear it).
    if (session?.username) session.client.endSession().catch(() => {});
    forget();
    queryClient.clear();
    setSession(null);
  }, [queryClient, session]);

  useEffect(() => {
    const ended = () => {
      const wasUser = !!session?.username;
      forget();
      queryClient.clear();
      setSession(null);
      setEndedBecause(
        wasUser
          ? 'Your session has ended (expired, logged out elsewhere, or the user was disabled). Sign in again.'
          : 'The manager no longer accepts this API key (revoked or invalid). Sign in again.',
      );
    };
    window.addEventListener(UNAUTHORIZED_EVENT, ended);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, ended);
  }, [queryClient, session]);

  const value = useMemo<SessionContextValue>(
    () => ({ session, endedBecause, login, loginWithPassword, logout, can: (role) => !!session && RANK[session.role] >= RANK[role] }),
    [session, endedBecause, login, loginWithPassword, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionContext(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSessionContext outside SessionProvider');
  return ctx;
}

/** The API client of the logged-in user; only used below the login gate. */
export function useApi(): ConsoleClient {
  const { session } = useSessionContext();
  if (!session) throw new Error('not logged in');
  return session.client;
}
