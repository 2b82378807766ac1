import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Credentials are 256-bit random secrets, so a plain SHA-256 is enough to store them: unlike
 * passwords they cannot be guessed from a dictionary, and a slow hash would cost every request.
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function newId(): string {
  return randomUUID();
}

/** Tenant ids appear in credentials, schema and file names, so they are deliberately plain. */
export const TENANT_ID_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * Credentials carry their tenant so a request can be routed to the right tenant database before
 * anything is looked up: `<prefix>_<tenant>.<id>.<secret>`.
 */
export function formatCredential(prefix: 'psk' | 'pat' | 'pss', tenantId: string, id: string, secret: string): string {
  return `${prefix}_${tenantId}.${id}.${secret}`;
}

export function parseCredential(prefix: 'psk' | 'pat' | 'pss', value: string): { tenantId: string; id: string; secret: string } | undefined {
  if (!value.startsWith(`${prefix}_`)) return undefined;
  const parts = value.slice(prefix.length + 1).split('.');
  if (parts.length !== 3 || !parts.every((p) => p.length > 0)) return undefined;
  const [tenantId, id, secret] = parts as [string, string, string];
  if (!TENANT_ID_PATTERN.test(tenantId)) return undefined;
  return { tenantId, id, secret };
}
