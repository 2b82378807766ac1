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
  keyId: string;
  /** Recorded in the audit log as the author of a change. */
  actor: string;
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

/** API keys: `Authorization: Bearer psk_<tenant>.<id>.<secret>` (or `X-Api-Key`). */
export async function authenticateUser(request: FastifyRequest, stores: StoreProvider): Promise<UserAuth> {
  const value = bearer(request, 'Bearer') ?? (request.headers['x-api-key'] as string | undefined);
  if (!value) throw new ApiError(401, 'AUTH_MISSING', 'send an API key: Authorization: Bearer <key>');
  const cred = parseCredential('psk', value);
  const store = cred && (await stores.tenant(cred.tenantId));
  const found = cred && store && (await store.apiKeys.secretHash(cred.id));
  if (!cred || !store || !found || !secretMatches(cred.secret, found.hash)) {
    throw new ApiError(401, 'AUTH_INVALID', 'the API key is not valid');
  }
  if (found.key.revokedAt) throw new ApiError(401, 'AUTH_REVOKED', 'the API key has been revoked');
  return { tenantId: cred.tenantId, store, role: found.key.role, keyId: found.key.id, actor: `api-key:${found.key.id}` };
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
  if (RANK[user.role] < RANK[role]) throw forbidden(`this needs the ${role} role; your key has ${user.role}`);
  return user;
}
