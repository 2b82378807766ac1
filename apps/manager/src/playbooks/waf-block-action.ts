import { isIP } from 'node:net';
import {
  GetIPSetCommand,
  ListIPSetsCommand,
  UpdateIPSetCommand,
  WAFOptimisticLockException,
  type WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { type ActionDeps, type ActionHandler, ActionSkipped, requireConnector } from './action-context.ts';
import type { PlaybookActionRecord, WafBlockAction } from './playbook-schema.ts';

interface IpSetRef {
  scope: 'REGIONAL' | 'CLOUDFRONT';
  name: string;
  id: string;
}

/** IP sets with CLOUDFRONT scope exist only in us-east-1, whatever region the playbook names. */
const regionFor = (a: { scope: string; region: string }) => (a.scope === 'CLOUDFRONT' ? 'us-east-1' : a.region);

async function findIpSet(waf: WAFV2Client, scope: IpSetRef['scope'], name: string): Promise<string> {
  let marker: string | undefined;
  do {
    const page = await waf.send(new ListIPSetsCommand({ Scope: scope, Limit: 100, ...(marker ? { NextMarker: marker } : {}) }));
    const hit = page.IPSets?.find((s) => s.Name === name);
    if (hit?.Id) return hit.Id;
    marker = page.IPSets?.length ? page.NextMarker : undefined;
  } while (marker);
  throw new Error(`no WAF IP set named ${name} (${scope})`);
}

/**
 * Read-modify-write of an IP set under WAF's optimistic lock: a concurrent change (another
 * playbook run, a person in the console) makes UpdateIPSet fail with the lock exception, and the
 * change is re-applied to the fresh contents. `change` returns undefined when nothing is to do.
 * UpdateIPSet replaces every mutable field, so the description is sent back as it was.
 */
async function modifyIpSet(
  waf: WAFV2Client,
  ref: IpSetRef,
  change: (addresses: string[]) => string[] | undefined,
): Promise<{ changed: boolean; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const cur = await waf.send(new GetIPSetCommand({ Scope: ref.scope, Name: ref.name, Id: ref.id }));
    const next = change(cur.IPSet?.Addresses ?? []);
    if (!next) return { changed: false, attempts: attempt };
    try {
      await waf.send(
        new UpdateIPSetCommand({
          Scope: ref.scope,
          Name: ref.name,
          Id: ref.id,
          Addresses: next,
          LockToken: cur.LockToken!,
          ...(cur.IPSet?.Description ? { Description: cur.IPSet.Description } : {}),
        }),
      );
      return { changed: true, attempts: attempt };
    } catch (err) {
      if (!(err instanceof WAFOptimisticLockException) || attempt >= 5) throw err;
    }
  }
}

/** `203.0.113.7/32` or `2001:db8::1/128`: WAF matches exactly the attacker, nothing around it. */
export function hostCidr(address: string): string {
  return `${address}/${isIP(address) === 6 ? 128 : 32}`;
}

export const wafBlockAction: ActionHandler<WafBlockAction> = {
  async run(ctx, a) {
    if (!ctx.attacker) throw new ActionSkipped('the event names no attacker address');
    const v6 = isIP(ctx.attacker) === 6;
    const name = v6 ? a.ipv6IpSetName : a.ipSetName;
    if (!name) throw new ActionSkipped(`${ctx.attacker} is IPv6 and the action names no ipv6IpSetName`);
    const connector = requireConnector(ctx);
    const account = await connector.resolveAccount(ctx.store, { account: a.cloudAccount });
    const region = regionFor(a);
    const clients = await connector.clients(ctx.store, account, region);
    try {
      const id = (v6 ? a.ipv6IpSetId : a.ipSetId) ?? (await findIpSet(clients.wafv2, a.scope, name));
      const cidr = hostCidr(ctx.attacker);
      const ref = { scope: a.scope, name, id };
      let alreadyPresent = false;
      const { attempts } = await modifyIpSet(clients.wafv2, ref, (addrs) => {
        alreadyPresent = addrs.includes(cidr);
        return alreadyPresent ? undefined : [...addrs, cidr];
      });
      const expiresAt = a.durationSeconds && !alreadyPresent ? new Date(ctx.now.getTime() + a.durationSeconds * 1000).toISOString() : null;
      return {
        status: 'succeeded',
        inputs: {
          cloudAccount: account.id,
          region,
          scope: a.scope,
          ipSetName: name,
          attacker: ctx.attacker,
          durationSeconds: a.durationSeconds ?? null,
        },
        // An address that was in the set before is not ours to remove on undo.
        result: {
          cloudAccountId: account.id,
          region,
          scope: a.scope,
          ipSetName: name,
          ipSetId: id,
          address: cidr,
          alreadyPresent,
          attempts,
        },
        undoable: !alreadyPresent,
        expiresAt,
      };
    } finally {
      clients.destroy();
    }
  },

  async undo(deps: ActionDeps, rec: PlaybookActionRecord) {
    const r = rec.result as {
      cloudAccountId: string;
      region: string;
      scope: IpSetRef['scope'];
      ipSetName: string;
      ipSetId: string;
      address: string;
    };
    const connector = requireConnector(deps);
    const account = await connector.resolveAccount(deps.store, { account: r.cloudAccountId });
    const clients = await connector.clients(deps.store, account, r.region);
    try {
      const { changed } = await modifyIpSet(clients.wafv2, { scope: r.scope, name: r.ipSetName, id: r.ipSetId }, (addrs) =>
        addrs.includes(r.address) ? addrs.filter((x) => x !== r.address) : undefined,
      );
      return { removed: changed ? r.address : null, ipSetId: r.ipSetId };
    } finally {
      clients.destroy();
    }
  },
};
