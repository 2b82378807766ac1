import { ApiClientError, type PalisadeClient, type Role } from '@palisade/api-client';

/** Keys look like `psk_<tenant>.<id>.<secret>`: the tenant is shown, the secret never is. */
export function tenantOfKey(apiKey: string): string {
  const m = /^psk_([^.]+)\./.exec(apiKey);
  return m ? m[1]! : '?';
}

const deniedBy = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (err: unknown) => {
      if (err instanceof ApiClientError && err.status === 403) return true;
      throw err;
    },
  );

/**
 * The API has no "who am I": the role is found by asking for what each role may see. Auditors
 * may list computers, operators activation tokens, admins API keys. A 401 means a bad key.
 */
export async function detectRole(client: PalisadeClient): Promise<Role> {
  await client.listComputers();
  if (!(await deniedBy(client.listApiKeys()))) return 'admin';
  if (!(await deniedBy(client.listTokens()))) return 'operator';
  return 'auditor';
}
