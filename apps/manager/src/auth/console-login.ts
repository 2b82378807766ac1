import type { ConsoleSession } from '../store/session-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { ConsoleUser } from '../store/user-repository.ts';
import { normaliseUsername } from '../store/user-repository.ts';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './password-hash.ts';

/** 5 failed logins for one username from one address lock that pair out for a minute. */
export const LOGIN_FAILURE_LIMIT = 5;
export const LOGIN_LOCK_MS = 60_000;

/** A refused login; `code` is stable (docs/errors/manager.md). */
export class LoginError extends Error {
  constructor(
    readonly code: 'AUTH_LOGIN_FAILED' | 'AUTH_LOGIN_LOCKED' | 'AUTH_USER_DISABLED',
    message: string,
    /** For AUTH_LOGIN_LOCKED: when another attempt is accepted. */
    readonly retryAt?: string,
  ) {
    super(message);
  }
}

export interface LoginResult {
  user: ConsoleUser;
  session: ConsoleSession;
  token: string;
}

const throttleKey = (username: string, address: string) => `${normaliseUsername(username)}\n${address}`;

/**
 * Checks a username and password of one tenant and opens a session. Unknown users cost the same
 * scrypt work as known ones; failures are counted per username and client address, so guessing
 * one account from one place is slowed while the real user elsewhere can still log in.
 */
export async function login(store: TenantStore, input: { username: string; password: string; address: string }): Promise<LoginResult> {
  const key = throttleKey(input.username, input.address);
  const locked = await store.users.lockedUntil(key);
  if (locked) throw lockedError(locked);
  const found = await store.users.credentials(input.username);
  const ok = await verifyPassword(input.password, found?.passwordHash ?? (await dummyHash()));
  if (!found || !ok) {
    const until = await store.users.recordFailure(key, LOGIN_FAILURE_LIMIT, LOGIN_LOCK_MS);
    if (until) throw lockedError(until);
    throw new LoginError('AUTH_LOGIN_FAILED', 'the username or password is not right');
  }
  await store.users.clearFailures(key);
  if (found.user.disabled) throw new LoginError('AUTH_USER_DISABLED', 'this user is disabled; an admin of the tenant can enable it');
  if (needsRehash(found.passwordHash)) await store.users.rehash(found.user.id, found.passwordHash, await hashPassword(input.password));
  await store.users.recordLogin(found.user.id);
  // Housekeeping rides on logins (rare, and never on the request hot path): old sessions and stale counters go.
  await store.sessions.prune();
  await store.users.pruneFailures();
  const { session, token } = await store.sessions.create(found.user.id, input.address);
  return { user: (await store.users.get(found.user.id))!, session, token };
}

function lockedError(until: string): LoginError {
  return new LoginError('AUTH_LOGIN_LOCKED', `too many failed logins for this username from this address; try again after ${until}`, until);
}
