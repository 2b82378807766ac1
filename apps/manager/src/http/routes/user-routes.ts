import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { MAX_PASSWORD_LENGTH, passwordProblem } from '../../auth/password-hash.ts';
import { ROLES, type Role } from '../../store/api-key-repository.ts';
import type { TenantStore } from '../../store/tenant-store.ts';
import type { ConsoleUser } from '../../store/user-repository.ts';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

const tags = ['users'];
const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new ApiError(400, 'AUTH_PASSWORD_WEAK', problem, 'body:/password');
}

async function userOf(store: TenantStore, ref: string): Promise<ConsoleUser> {
  const user = await store.users.find(ref);
  if (!user) throw notFound('user');
  return user;
}

/** Console users of the caller's tenant (admins only); their passwords are never returned. */
export async function userRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/v1/users', { schema: { tags, summary: "List the tenant's console users" } }, async (request) => {
    const user = requireRole(request, 'admin');
    return { users: await user.store.users.list() };
  });

  app.post(
    '/api/v1/users',
    {
      schema: {
        tags,
        summary: 'Create a console user (username and password, a role); the password is stored as a scrypt hash',
        body: Type.Object(
          {
            username: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
            password: Password,
            role: Type.Enum(ROLES),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      const body = request.body as { username: string; password: string; role: Role };
      checkPassword(body.password);
      const created = await user.store.users.create(body);
      await user.store.audit.record(user.actor, 'user.create', `user:${created.id}`, { username: created.username, role: created.role });
      reply.status(201);
      return created;
    },
  );

  app.get('/api/v1/users/:id', { schema: { tags, summary: 'One console user, by id or username', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'admin');
    return userOf(user.store, (request.params as IdParamsT).id);
  });

  app.patch(
    '/api/v1/users/:id',
    {
      schema: {
        tags,
        summary: "Disable or enable a console user, or change its role; disabling ends the user's sessions",
        params: IdParams,
        body: Type.Object(
          { disabled: Type.Optional(Type.Boolean()), role: Type.Optional(Type.Enum(ROLES)) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin');
      const target = await userOf(user.store, (request.params as IdParamsT).id);
      const patch = request.body as { disabled?: boolean; role?: Role };
      if (target.id === user.session?.userId && (patch.disabled || (patch.role && patch.role !== 'admin'))) {
        throw new ApiError(409, 'AUTH_SELF_LOCKOUT', 'you cannot disable or demote the user you are logged in as');
      }
      const updated = await user.store.users.update(target.id, patch);
      const ended = patch.disabled ? await user.store.sessions.endAllOf(target.id) : 0;
      await user.store.audit.record(user.actor, 'user.update', `user:${target.id}`, { ...patch, sessionsEnded: ended });
      return updated;
    },
  );

  app.post(
    '/api/v1/users/:id/password',
    {
      schema: {
        tags,
        summary: "Set a console user's password (admin reset); ends the user's open sessions",
        params: IdParams,
        body: Type.Object({ password: Password }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin');
      const target = await userOf(user.store, (request.params as IdParamsT).id);
      const { password } = request.body as { password: string };
      checkPassword(password);
      const updated = await user.store.users.setPassword(target.id, password);
      const ended = await user.store.sessions.endAllOf(target.id);
      await user.store.audit.record(user.actor, 'user.set-password', `user:${target.id}`, { sessionsEnded: ended });
      return updated;
    },
  );
}
