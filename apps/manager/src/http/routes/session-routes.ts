import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { LoginError, login } from '../../auth/console-login.ts';
import { dummyHash, MAX_PASSWORD_LENGTH, verifyPassword } from '../../auth/password-hash.ts';
import { ROLES } from '../../store/api-key-repository.ts';
import type { StoreProvider } from '../../store/store-provider.ts';
import { ApiError } from '../api-error.ts';
import { CSRF_HEADER, requireRole, SESSION_COOKIE } from '../request-auth.ts';

const tags = ['sessions'];

const SessionInfo = Type.Object({
  tenant: Type.String(),
  role: Type.Enum(ROLES),
  kind: Type.Enum(['api-key', 'session']),
  username: Type.Optional(Type.String()),
  sessionId: Type.Optional(Type.String()),
  expiresAt: Type.Optional(Type.String()),
  idleExpiresAt: Type.Optional(Type.String()),
});

function setCookie(reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; Secure; SameSite=Strict`,
  );
}

/** Login: the one user route that needs no credentials, so it is registered outside the authenticated scope. */
export async function sessionLoginRoutes(app: FastifyInstance, stores: StoreProvider): Promise<void> {
  app.post(
    '/api/v1/sessions',
    {
      schema: {
        tags,
        summary:
          'Log in with a console username and password of a tenant; returns a session token (or, with cookie: true, sets an HttpOnly cookie instead)',
        security: [],
        body: Type.Object(
          {
            tenant: Type.String({ minLength: 1, maxLength: 31 }),
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
            cookie: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const body = request.body as { tenant: string; username: string; password: string; cookie?: boolean };
      // The cookie is set only for the console, which always sends the CSRF header; a cross-site form cannot.
      if (body.cookie && !request.headers[CSRF_HEADER]) {
        throw new ApiError(403, 'AUTH_CSRF', `a login that asks for the session cookie needs the ${CSRF_HEADER} header`);
      }
      const store = await stores.tenant(body.tenant);
      if (!store) {
        // The same scrypt work as a real check, so the answer's timing does not tell which tenants exist.
        await verifyPassword(body.password, await dummyHash());
        throw new ApiError(401, 'AUTH_LOGIN_FAILED', 'the tenant, username or password is not right');
      }
      let result: Awaited<ReturnType<typeof login>>;
      try {
        result = await login(store, { username: body.username, password: body.password, address: request.ip });
      } catch (err) {
        if (!(err instanceof LoginError)) throw err;
        if (err.code === 'AUTH_LOGIN_LOCKED') {
          reply.header('retry-after', String(Math.max(1, Math.ceil((Date.parse(err.retryAt!) - Date.now()) / 1000))));
          await store.audit.record(`user:${body.username.toLowerCase()}`, 'session.locked-out', `address:${request.ip}`);
          throw new ApiError(429, err.code, err.message);
        }
        throw new ApiError(401, err.code, err.code === 'AUTH_LOGIN_FAILED' ? 'the tenant, username or password is not right' : err.message);
      }
      const { user, session, token } = result;
      await store.audit.record(`user:${user.username}`, 'session.create', `user:${user.id}`, {
        address: request.ip,
        sessionId: session.id,
      });
      const info = {
        tenant: store.tenantId,
        role: user.role,
        kind: 'session' as const,
        username: user.username,
        sessionId: session.id,
        expiresAt: session.expiresAt,
        idleExpiresAt: session.idleExpiresAt,
      };
      reply.status(201);
      if (body.cookie) {
        setCookie(reply, token, (Date.parse(session.expiresAt) - Date.now()) / 1000);
        return info;
      }
      return { ...info, token };
    },
  );
}

/** Who the caller is, and logout; inside the authenticated scope. */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/v1/sessions/current',
    {
      schema: {
        tags,
        summary: 'Who is calling: tenant, role, and for a console session the user and expiry',
        response: { 200: SessionInfo },
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const s = user.session;
      return s
        ? {
            tenant: user.tenantId,
            role: user.role,
            kind: 'session',
            username: s.username,
            sessionId: s.id,
            expiresAt: s.expiresAt,
            idleExpiresAt: s.idleExpiresAt,
          }
        : { tenant: user.tenantId, role: user.role, kind: 'api-key' };
    },
  );

  app.delete(
    '/api/v1/sessions/current',
    { schema: { tags, summary: "Log out: ends the caller's session and clears the session cookie" } },
    async (request, reply) => {
      const user = requireRole(request, 'auditor');
      if (!user.session)
        throw new ApiError(400, 'AUTH_NOT_A_SESSION', 'an API key is not a session; revoke it with DELETE /api/v1/api-keys/{id}');
      await user.store.sessions.end(user.session.id);
      await user.store.audit.record(user.actor, 'session.end', `user:${user.session.userId}`, { sessionId: user.session.id });
      if (user.session.viaCookie) setCookie(reply, '', 0);
      reply.status(204);
    },
  );
}
