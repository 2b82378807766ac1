import { createHmac } from 'node:crypto';
import type { ActionHandler } from './action-context.ts';
import type { WebhookAction } from './playbook-schema.ts';

/**
 * `X-Palisade-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver
 * recomputes it with the shared secret and rejects old timestamps, so a captured request cannot
 * be replayed later.
 */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Posts the trigger (playbook, attacker, event, computer) as JSON. Not undoable. */
export const webhookAction: ActionHandler<WebhookAction> = {
  async run(ctx, a) {
    const body = JSON.stringify({
      playbook: { id: ctx.playbook.id, name: ctx.playbook.name },
      runId: ctx.runId,
      tenantId: ctx.store.tenantId,
      triggerKey: ctx.triggerKey,
      attacker: ctx.attacker ?? null,
      event: ctx.event,
      eventIds: ctx.eventIds,
      computer: ctx.computer
        ? { id: ctx.computer.id, hostname: ctx.computer.hostname, cloud: ctx.computer.cloud, tags: ctx.computer.tags }
        : null,
      time: ctx.now.toISOString(),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'palisade-manager' };
    const secret = ctx.secrets[ctx.actionIndex]?.secret;
    if (secret) headers['x-palisade-signature'] = webhookSignature(secret, body, Math.floor(ctx.now.getTime() / 1000));
    const res = await (ctx.fetch ?? fetch)(a.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    });
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
    return {
      status: 'succeeded',
      inputs: { url: a.url, signed: Boolean(secret) },
      result: { status: res.status },
      undoable: false,
      expiresAt: null,
    };
  },
};
