import { PalisadeClient, type Role } from '@palisade/api-client';
import { detectRole, tenantOfKey } from './role-detection.ts';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';

/** Where the API key lives: sessionStorage, so closing the tab logs out and nothing persists on disk. */
const STORAGE_KEY = 'palisade.apiKey';
export const UNAUTHORIZED_EVENT = 'palisade:unauthorized';

export interface Session {
  client: PalisadeClient;
  role: Role;
  tenant: string;
}

interface SessionContextValue {
  session: Session | null;
  /** Why the last session ended, when the manager ended it (revoked key). */
  endedBecause: string | null;
  login(apiKey: string): Promise<void>;
  logout(): void;
  /** Whether the logged-in key's role reaches `role` (admin > operator > auditor). */
  can(role: Role): boolean;
}

const SessionContext = createContext<SessionContextValue | null>(null);
const RANK: Record<Role, number> = { auditor: 0, operator: 1, admin: 2 };

function clientFor(apiKey: string): PalisadeClient {
  return new PalisadeClient({ url: window.location.origin, apiKey });
}

function restored(): Session | null {
  const key = sessionStorage.getItem(STORAGE_KEY);
  const role = sessionStorage.getItem(`${STORAGE_KEY}.role`) as Role | null;
  if (!key || !role) return null;
  return { client: clientFor(key), role, tenant: tenantOfKey(key) };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(restored);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);
  const queryClient = useQueryClient();

  const login = useCallback(async (apiKey: string) => {
    const key = apiKey.trim();
    const client = clientFor(key);
    const role = await detectRole(client);
    sessionStorage.setItem(STORAGE_KEY, key);
    sessionStorage.setItem(`${STORAGE_KEY}.role`, role);
    setEndedBecause(null);
    setSession({ client, role, tenant: tenantOfKey(key) });
  }, []);

  const logout = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    sessionStorage.removeItem(`${STORAGE_KEY}.role`);
    queryClient.clear();
    setSession(null);
  }, [queryClient]);

  useEffect(() => {
    const ended = () => {
      logout();
      setEndedBecause('The manager no longer accepts this API key (revoked or invalid). Sign in again.');
    };
    window.addEventListener(UNAUTHORIZED_EVENT, ended);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, ended);
  }, [logout]);

  const value = useMemo<SessionContextValue>(
    () => ({ session, endedBecause, login, logout, can: (role) => !!session && RANK[session.role] >= RANK[role] }),
    [session, endedBecause, login, logout],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionContext(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSessionContext outside SessionProvider');
  return ctx;
}

/** The API client of the logged-in user; only used below the login gate. */
export function useApi(): PalisadeClient {
  const { session } = useSessionContext();
  if (!session) throw new Error('not logged in');
  return session.client;
}
