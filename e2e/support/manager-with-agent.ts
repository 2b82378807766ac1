import { join } from 'node:path';
import { type AgentProcess, freePort, type ManagerProcess, runCli, startAgentProcess, startManagerProcess } from './real-processes.ts';

type NewPolicy = Parameters<ManagerProcess['client']['createPolicy']>[0];

export interface ManagerWithAgent {
  manager: ManagerProcess;
  agent: AgentProcess;
  policyId: string;
  /** `palisade …` against this manager (its URL, admin key and CA as flags). */
  cli(args: string[]): ReturnType<typeof runCli>;
  /** Stops the agent, then the manager (`dir` stays: the test removes it). */
  cleanup(): Promise<void>;
}

/**
 * The set-up most end-to-end scenarios share: a real manager process in `dir/manager`, one
 * policy, and a real agent process in `agentDir` (default `dir/agent`) activated into it.
 * `policy` may be a function of the running manager, for scenarios that upload something (an
 * artifact, a rule) the policy names. If any step fails, what was started is stopped before the
 * error is thrown, so a failed `before` leaves no process behind.
 */
export async function startManagerWithAgent(opts: {
  dir: string;
  policy: NewPolicy | ((manager: ManagerProcess) => Promise<NewPolicy>);
  agentDir?: string;
}): Promise<ManagerWithAgent> {
  let manager: ManagerProcess | undefined;
  let agent: AgentProcess | undefined;
  const cleanup = async () => {
    await agent?.proc.stop();
    await manager?.proc.stop();
  };
  try {
    const m = await startManagerProcess({ dataDir: join(opts.dir, 'manager'), port: await freePort() });
    manager = m;
    const policy = typeof opts.policy === 'function' ? await opts.policy(m) : opts.policy;
    const policyId = (await m.client.createPolicy(policy)).id;
    agent = await startAgentProcess(m, opts.agentDir ?? join(opts.dir, 'agent'), { policyId });
    return {
      manager: m,
      agent,
      policyId,
      cli: (args) => runCli([...args, '--url', m.url, '--api-key', m.adminKey, '--ca', m.caFile]),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * A policy that turns integrity monitoring on in detect mode with `rules` (the module's YAML),
 * real-time changes debounced for 200 ms and no scheduled scan during a test.
 */
export const integrityPolicy = (name: string, rules: string): NewPolicy => ({
  name,
  settings: {
    heartbeatSeconds: 2,
    modules: {
      integrity: {
        enabled: true,
        mode: 'detect',
        settings: { rules: [{ name: 'e2e', yaml: rules }], realtime: { debounceMs: 200 }, schedule: { intervalSeconds: 3600 } },
      },
    },
  },
});
