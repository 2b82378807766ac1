import type { FastifyRequest } from 'fastify';
import type { Role } from '../store/api-key-repository.ts';
import type { Computer } from '../store/computer-repository.ts';
import { parseCredential, secretMatches } from '../store/secrets.ts';
import type { StoreProvider } from '../store/store-provider.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { ApiError, forbidden } from './api-error.ts';

export interface UserAuth {
  tenantId: string;
  store: TenantStore;
  role: Role;
  /** The API key's id, or the session's id for a console user. */
  keyId: string;
  /** Recorded in the audit log as the author of a change. */
  actor: string;
  /** Set when the caller is a console user with a session (not an API key). */
  session?: { id: string; userId: string; username: string; expiresAt: string; idleExpiresAt: string; viaCookie: boolean };
}

export interface AgentAuth {
  tenantId: string;
  store: TenantStore;
  computer: Computer;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserAuth;
    agent?: AgentAuth;
  }
}

function bearer(request: FastifyRequest, scheme: 'Bearer' | 'Agent'): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const [s, v] = [h.slice(0, h.indexOf(' ')), h.slice(h.indexOf(' ') + 1).trim()];
  return s.toLowerCase() === scheme.toLowerCase() && v ? v : undefined;
}

/**
 * The session cookie of the console: `__Host-` binds it to this origin over HTTPS and to path `/`;
 * it is HttpOnly (scripts never see the token) and SameSite=Strict.
 */
export const SESSION_COOKIE = '__Host-palisade_session';
/**
 * State-changing requests authenticated by the cookie must carry this header: a cross-site form
 * or fetch cannot add it without a CORS preflight the manager never grants, so a page elsewhere
 * cannot make the browser act with the user's cookie (CSRF).
 */
export const CSRF_HEADER = 'x-palisade-csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
      } catch {
        return undefined; // a malformed %-escape is no credential (and no reason for a 500)
      }
    }
  }
  return undefined;
}

/**
 * API keys (`Authorization: Bearer psk_<tenant>.<id>.<secret>` or `X-Api-Key`) and console
 * sessions (`Bearer pss_<tenant>.<id>.<secret>`, or the session cookie) give the same thing: a
 * tenant, a role and an actor, so every route treats them alike.
 */
export async function authenticateUser(request: FastifyRequest, stores: StoreProvider): Promise<UserAuth> {
  const value = bearer(request, 'Bearer') ?? (request.headers['x-api-key'] as string | undefined);
  if (value?.startsWith('pss_')) return authenticateSession(request, stores, value, false);
  if (!value) {
    const cookie = sessionCookieOf(request);
    if (cookie) return authenticateSession(request, stores, cookie, true);
    throw new ApiError(401, 'AUTH_MISSING', 'send an API key: Authorization: Bearer <key>');
  }
  const cred = parseCredential('psk', value);
  const store = cred && (await stores.tenant(cred.tenantId));
  const found = cred && store && (await store.apiKeys.secretHash(cred.id));
  if (!cred || !store || !found || !secretMatches(cred.secret, found.hash)) {
    throw new ApiError(401, 'AUTH_INVALID', 'the API key is not valid');
  }
  if (found.key.revokedAt) throw new ApiError(401, 'AUTH_REVOKED', 'the API key has been revoked');
  return { tenantId: cred.tenantId, store, role: found.key.role, keyId: found.key.id, actor: `api-key:${found.key.id}` };
}

async function authenticateSession(request: FastifyRequest, stores: StoreProvider, token: string, viaCookie: boolean): Promise<UserAuth> {
  if (viaCookie && !SAFE_METHODS.has(request.method) && !request.headers[CSRF_HEADER]) {
    throw new ApiError(
      403,
      'AUTH_CSRF',
      `a request authenticated by the session cookie that changes something needs the ${CSRF_HEADER} header`,
    );
  }
  const cred = parseCredential('pss', token);
  const store = cred && (await stores.tenant(cred.tenantId));
  const found = cred && store && (await store.sessions.secretHash(cred.id));
  if (!cred || !store || !found || !secretMatches(cred.secret, found.hash)) {
    throw new ApiError(401, 'AUTH_INVALID', 'the session is not valid; log in again');
  }
  const state = store.sessions.state(found.session);
  if (state === 'ended')
    throw new ApiError(401, 'AUTH_SESSION_ENDED', 'the session has ended (logged out, or the user was disabled or got a new password)');
  if (state)
    throw new ApiError(
      401,
      'AUTH_SESSION_EXPIRED',
      `the session has expired (${state === 'idle' ? 'unused too long' : 'too old'}); log in again`,
    );
  if (found.user.disabled) throw new ApiError(401, 'AUTH_USER_DISABLED', 'this user is disabled');
  await store.sessions.touch(found.session);
  const { session: s, user } = found;
  return {
    tenantId: cred.tenantId,
    store,
    role: user.role,
    keyId: s.id,
    actor: `user:${user.username}`,
    session: { id: s.id, userId: user.id, username: user.username, expiresAt: s.expiresAt, idleExpiresAt: s.idleExpiresAt, viaCookie },
  };
}

/** Agents: `Authorization: Agent <agentId>:<secret>`; the agent id names its tenant. */
export async function authenticateAgent(request: FastifyRequest, stores: StoreProvider): Promise<AgentAuth> {
  const value = bearer(request, 'Agent');
  if (!value) throw new ApiError(401, 'AUTH_MISSING', 'send the agent credentials: Authorization: Agent <id>:<secret>');
  const colon = value.indexOf(':');
  const id = value.slice(0, colon);
  const tenantId = id.slice(0, id.indexOf('.'));
  const store = colon > 0 && tenantId ? await stores.tenant(tenantId) : undefined;
  const computer = store && (await store.computers.authenticate(id, value.slice(colon + 1)));
  if (!store || !computer) throw new ApiError(401, 'AUTH_INVALID', 'the agent credentials are not valid (deactivated?)');
  return { tenantId, store, computer };
}

const RANK: Record<Role, number> = { auditor: 0, operator: 1, admin: 2 };

/** Auditors read, operators change computers and policies, admins also manage keys and tenants. */
export function requireRole(request: FastifyRequest, role: Role): UserAuth {
  const user = request.user;
  if (!user) throw new ApiError(401, 'AUTH_MISSING', 'authentication required');
  if (RANK[user.role] < RANK[role]) throw forbidden(`this needs the ${role} role; you have ${user.role}`);
  return user;
}
