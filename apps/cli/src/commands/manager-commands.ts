import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { DEFAULT_MANAGER_PORT, startManager } from '@palisade/manager';
import { CliError } from './output.ts';

/** Stops the manager cleanly on SIGINT/SIGTERM; resolves when it has stopped. */
export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((done) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      stop().then(done, (err: unknown) => {
        process.stderr.write(`error during shutdown: ${(err as Error).message}\n`);
        done();
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}

export function portOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError('CLI_BAD_PORT', `${v} is not a port number`, 2);
  return n;
}

export function registerManagerCommands(program: Command): void {
  const manager = program.command('manager').description('Run the Palisade manager');
  manager
    .command('start')
    .description('Start the manager in the foreground (HTTPS API, OpenAPI docs at /api/docs)')
    .option(
      '--data-dir <dir>',
      'where the manager keeps its SQLite files, CA and bootstrap admin key',
      process.env.PALISADE_MANAGER_DATA_DIR ?? 'data',
    )
    .option('--db <db>', '"sqlite" or a postgres:// URL (several managers may share one PostgreSQL)', process.env.PALISADE_DB ?? 'sqlite')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'port to listen on', portOption, DEFAULT_MANAGER_PORT)
    .option('--no-tls', 'serve plain HTTP (only behind a TLS-terminating proxy)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug', 'info')
    .action(async (opts) => {
      const dataDir = resolve(opts.dataDir);
      let running;
      try {
        running = await startManager({ dataDir, db: opts.db, host: opts.host, port: opts.port, tls: opts.tls, logLevel: opts.logLevel });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EADDRINUSE') throw new CliError('CLI_PORT_IN_USE', `port ${opts.port} is already in use (is a manager running?)`);
        throw err;
      }
      writeFileSync(join(dataDir, 'manager-url'), `${running.url}\n`);
      process.stderr.write(`manager listening on ${running.url} (API docs: ${running.url}/api/docs)\n`);
      if (running.createdAdminKey) process.stderr.write(`first admin API key written to ${running.adminKeyFile}\n`);
      await untilSignal(running.stop);
    });
}
