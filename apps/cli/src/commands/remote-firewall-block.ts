import type { Command as ApiCommand, PalisadeClient } from '@palisade/api-client';
import { CliError } from './output.ts';

export interface RemoteBlockTarget {
  computers?: string;
  smartFolder?: string;
}

export interface RemoteBlockOutcome {
  computerId: string;
  commandId: string;
  status: string;
  result: unknown;
  error: string | null;
}

/** The computers a `--computers a,b` or `--smart-folder ID` option names. */
export async function targetComputers(client: PalisadeClient, target: RemoteBlockTarget): Promise<string[]> {
  if (target.computers && target.smartFolder) throw new CliError('CLI_BAD_OPTION', 'give --computers or --smart-folder, not both', 2);
  if (target.computers) {
    const ids = target.computers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length === 0) throw new CliError('CLI_BAD_OPTION', '--computers needs at least one computer id', 2);
    return ids;
  }
  const res = await client.smartFolderComputers(target.smartFolder!);
  return res.computers.map((c) => c.id);
}

/**
 * Queues one module command on every target computer and waits (up to `waitMs`) for each
 * answer, so the operator sees which hosts applied the block and why the others did not.
 */
export async function sendAndWait(
  client: PalisadeClient,
  computerIds: readonly string[],
  kind: string,
  args: Record<string, unknown>,
  waitMs: number,
): Promise<RemoteBlockOutcome[]> {
  // One refusal (unknown computer, no permission) must not hide what the others did.
  const queued = await Promise.all(
    computerIds.map(async (id) => {
      try {
        return { id, cmd: await client.sendCommand(id, { kind, args }) };
      } catch (err) {
        return { id, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const deadline = Date.now() + waitMs;
  const latest = new Map<string, ApiCommand>(queued.flatMap((q) => ('cmd' in q && q.cmd ? [[q.id, q.cmd] as const] : [])));
  const done = (c: ApiCommand) => c.status === 'succeeded' || c.status === 'failed';
  while (Date.now() < deadline && [...latest.values()].some((c) => !done(c))) {
    await new Promise((r) => setTimeout(r, 250));
    await Promise.all([...latest].filter(([, c]) => !done(c)).map(async ([id, c]) => latest.set(id, await client.getCommand(c.id))));
  }
  return queued.map((q): RemoteBlockOutcome => {
    const c = latest.get(q.id);
    if (!c) return { computerId: q.id, commandId: '', status: 'not sent', result: null, error: 'error' in q ? (q.error ?? null) : null };
    return {
      computerId: q.id,
      commandId: c.id,
      status: done(c) ? c.status : `${c.status} (no answer within ${Math.round(waitMs / 1000)}s)`,
      result: c.result,
      error: c.error,
    };
  });
}
