import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import { activateAgent, dataDirPaths } from '@palisade/agent';
import { PalisadeClient } from '@palisade/api-client';
import { DEFAULT_MANAGER_PORT, quickstartPolicySettings, startManager } from '@palisade/manager';
import { nodeTransport } from './api-connection.ts';
import { ensureConsoleBuilt } from './console-build.ts';
import { portOption, untilSignal } from './manager-commands.ts';
import { CliError } from './output.ts';

const QUICKSTART_POLICY = 'Quickstart (detect only)';

/**
 * `npm start`: a manager on SQLite in ./data, the first admin key, the quickstart policy (every
 * supported module in detect mode: nothing is blocked or changed), and one local agent activated
 * against it and run as a child process.
 */
export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description('Start a manager on SQLite and one local agent in detect-only mode (what `npm start` runs)')
    .option('--data-dir <dir>', 'data folder', 'data')
    .option('--host <host>', 'address the manager listens on', '127.0.0.1')
    .option('--port <port>', 'manager port', portOption, DEFAULT_MANAGER_PORT)
    .option('--no-agent', 'start only the manager')
    .action(async (opts) => {
      const dataDir = resolve(opts.dataDir);
      mkdirSync(dataDir, { recursive: true });
      const consoleBuild = await ensureConsoleBuilt((line) => process.stdout.write(`${line}\n`));
      let manager;
      try {
        manager = await startManager({ dataDir, host: opts.host, port: opts.port, logLevel: 'warn' });
      } catch (err) {
        if ((err as { code?: string }).code === 'EADDRINUSE') {
          throw new CliError('CLI_PORT_IN_USE', `port ${opts.port} is in use: is Palisade already running? (or pass --port)`);
        }
        throw err;
      }
      writeFileSync(join(dataDir, 'manager-url'), `${manager.url}\n`);
      const adminKey = manager.createdAdminKey ?? (await import('node:fs')).readFileSync(manager.adminKeyFile, 'utf8').trim();
      const client = new PalisadeClient({
        url: manager.url,
        apiKey: adminKey,
        transport: nodeTransport(manager.caCertFile ? (await import('node:fs')).readFileSync(manager.caCertFile, 'utf8') : undefined),
      });

      const { policies } = await client.listPolicies();
      const policy =
        policies.find((p) => p.name === QUICKSTART_POLICY) ??
        (await client.createPolicy({
          name: QUICKSTART_POLICY,
          description: 'Every module the host supports, in detect mode',
          settings: quickstartPolicySettings(),
        }));

      let agentChild: ReturnType<typeof spawn> | undefined;
      const agentDir = join(dataDir, 'agent');
      if (opts.agent) {
        if (!existsSync(dataDirPaths(agentDir).identity)) {
          const { token } = await client.createToken({
            policyId: policy.id,
            maxUses: 1,
            ttlSeconds: 600,
            description: 'quickstart local agent',
          });
          await activateAgent({
            managerUrl: manager.url,
            token,
            dataDir: agentDir,
            ...(manager.caCertFile ? { caFile: manager.caCertFile } : {}),
          });
        }
        const main = fileURLToPath(new URL('../main.ts', import.meta.url));
        agentChild = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, 'agent', 'start', '--data-dir', agentDir], {
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        agentChild.on('exit', (code, signal) => {
          if (!stopping) process.stderr.write(`local agent exited (${signal ?? code}); the manager keeps running\n`);
        });
      }

      const lines = [
        '',
        'Palisade is running.',
        consoleBuild === 'fresh' || consoleBuild === 'built'
          ? `  Web console:   ${manager.url}/   (log in with the admin API key; the browser warns about the manager's own CA)`
          : '  Web console:   not available (its build failed or vite is missing; see above)',
        `  Manager API:   ${manager.url}   (OpenAPI docs: ${manager.url}/api/docs)`,
        `  CA:            ${manager.caCertFile ?? '(plain HTTP)'}`,
        manager.createdAdminKey
          ? `  Admin API key: ${manager.createdAdminKey}   (shown once; also in ${manager.adminKeyFile}, mode 0600)`
          : `  Admin API key: in ${manager.adminKeyFile}`,
        opts.agent
          ? `  Local agent:   data in ${agentDir}, policy "${QUICKSTART_POLICY}" (detect only: nothing is blocked or changed)`
          : '  Local agent:   not started (--no-agent)',
        '',
        'Try:  npx palisade computers list     npx palisade events list     npx palisade agent status --data-dir data/agent',
        'Stop with Ctrl-C.',
        '',
      ];
      process.stdout.write(lines.join('\n'));
      let stopping = false;
      await untilSignal(async () => {
        stopping = true;
        if (agentChild && agentChild.exitCode === null) {
          const exited = new Promise((r) => agentChild!.once('exit', r));
          agentChild.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        }
        await manager.stop();
      });
    });
}
