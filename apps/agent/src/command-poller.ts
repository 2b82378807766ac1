import {
  AGENT_API,
  type AgentCommand,
  type CommandPollResponse,
  CommandPollResponseSchema,
  type CommandResult,
  CommandResultSchema,
} from '@palisade/protocol';
import { Value } from 'typebox/value';
import { errorMessage, isAgentError } from './agent-error.ts';
import type { AgentLogger } from './agent-logger.ts';
import { backoffDelay, sleep, UNAUTHORIZED_RETRY_MS } from './backoff.ts';
import type { LinkState } from './link-state.ts';
import type { ManagerClient } from './manager-client.ts';

/** Handles one command kind; returns the `result` object, throws to answer `failed`. */
export type CommandHandler = (command: AgentCommand, signal: AbortSignal) => Promise<Record<string, unknown> | undefined>;

export interface CommandPollerOptions {
  client: ManagerClient;
  link: LinkState;
  logger: AgentLogger;
  handlers: Record<string, CommandHandler>;
  /** Long-poll hold asked of the manager (protocol maximum 30). */
  waitSeconds?: number;
  maxBackoffMs?: number;
}

/**
 * Receives commands by long-poll: the request stays open until the manager has a command or
 * `waitSeconds` pass, so a command reaches an online agent in about one round trip. Every
 * command gets a result, unknown kinds a `failed` one, so the manager never waits forever.
 */
export class CommandPoller {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly running = new Set<Promise<void>>();
  readonly handled: { id: string; kind: string; status: CommandResult['status'] }[] = [];

  constructor(private readonly options: CommandPollerOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  private async run(): Promise<void> {
    const { client, link, logger } = this.options;
    const signal = this.abort.signal;
    const wait = Math.min(30, Math.max(0, this.options.waitSeconds ?? 25));
    let attempt = 0;
    while (!signal.aborted) {
      const began = Date.now();
      let answer: CommandPollResponse;
      try {
        answer = await client.call<CommandPollResponse>(
          'GET',
          `${AGENT_API.commands}?waitSeconds=${wait}`,
          CommandPollResponseSchema,
          undefined,
          { signal, timeoutMs: (wait + 15) * 1000 },
        );
      } catch (err) {
        if (signal.aborted) break;
        link.failed(err);
        const unauthorized = isAgentError(err) && err.code === 'AGENT_UNAUTHORIZED';
        const delay = Math.max(backoffDelay(attempt++, 250, this.options.maxBackoffMs ?? 5_000), unauthorized ? UNAUTHORIZED_RETRY_MS : 0);
        if (attempt <= 1 || attempt % 10 === 0) logger.warn({ err: errorMessage(err), retryInMs: delay }, 'command poll failed');
        await sleep(delay, signal);
        continue;
      }
      attempt = 0;
      link.ok();
      for (const command of answer.commands) {
        const task = this.execute(command).finally(() => this.running.delete(task));
        this.running.add(task);
      }
      // a manager that answers at once with nothing (no long-poll support) must not be hammered
      if (answer.commands.length === 0 && wait > 0 && Date.now() - began < 1_000) await sleep(1_000, signal);
    }
  }

  private async execute(command: AgentCommand): Promise<void> {
    const { logger, handlers } = this.options;
    const handler = handlers[command.kind];
    let result: CommandResult;
    if (!handler) {
      result = { status: 'failed', error: `unknown command kind "${command.kind}" for this agent` };
    } else {
      try {
        const out = await handler(command, this.abort.signal);
        result = out ? { status: 'succeeded', result: out } : { status: 'succeeded' };
      } catch (err) {
        result = { status: 'failed', error: errorMessage(err).slice(0, 4000) };
      }
    }
    if (!Value.Check(CommandResultSchema, result)) {
      result = { status: 'failed', error: 'the handler produced a result that does not match the protocol' };
    }
    logger.info({ commandId: command.id, kind: command.kind, status: result.status }, 'command handled');
    this.handled.push({ id: command.id, kind: command.kind, status: result.status });
    if (this.handled.length > 100) this.handled.shift();
    await this.report(command, result);
  }

  /** A few retries: the result matters, but a command the manager forgot (404) is not retried. */
  private async report(command: AgentCommand, result: CommandResult): Promise<void> {
    const { client, logger } = this.options;
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        const res = await client.request('POST', AGENT_API.commandResult(command.id), result, { timeoutMs: 15_000 });
        if (res.status >= 200 && res.status < 300) return;
        if (res.status >= 400 && res.status < 500) {
          logger.warn({ commandId: command.id, status: res.status, body: res.body }, 'manager refused the command result');
          return;
        }
      } catch (err) {
        if (isAgentError(err) && err.code === 'AGENT_ABORTED') return;
        logger.warn({ commandId: command.id, err: errorMessage(err) }, 'posting the command result failed');
      }
      await sleep(backoffDelay(attempt, 250, 5_000), this.abort.signal);
      if (this.abort.signal.aborted && attempt >= 1) return;
    }
  }
}
