// The `palisade` command of the agent bundle (bin/palisade): the CLI's `agent …` commands and nothing
// else, so the bundle carries the agent and its modules but not the manager, the API client
// or the offline engines' commands. It mirrors apps/cli/src/main.ts for the one command group;
// the bundle is a distribution of the CLI, which is why it reaches into the CLI's command files.
import { Command } from '@commander-js/extra-typings';
import { registerAgentCommands } from '../apps/cli/src/commands/agent-commands.ts';
import { CliError } from '../apps/cli/src/commands/output.ts';

const program = new Command('palisade')
  .description('Palisade agent (bundle): activate this host and run the agent daemon')
  .version(process.env.PALISADE_BUNDLE_VERSION ?? '0.1.0')
  .option('--ca <file>', "manager's CA certificate")
  .option('--json', 'print JSON');
registerAgentCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
}
