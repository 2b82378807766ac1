import { Command } from '@commander-js/extra-typings';
import { registerAgentCommands } from './commands/agent-commands.ts';
import { registerAppcontrolCommands } from './commands/appcontrol-commands.ts';
import { registerFimCommands } from './commands/fim-commands.ts';
import { registerFirewallCommands } from './commands/firewall-commands.ts';
import { registerIpsCommands } from './commands/ips-commands.ts';
import { registerLogtestCommands } from './commands/logtest-commands.ts';
import { registerManagerCommands } from './commands/manager-commands.ts';
import { registerMalwareCommands } from './commands/malware-commands.ts';
import { CliError } from './commands/output.ts';
import { registerPlatformCommands } from './commands/platform-commands.ts';
import { registerQuickstartCommand } from './commands/quickstart-command.ts';
import { registerVulnCommands } from './commands/vuln-commands.ts';
import { registerWebrepCommands } from './commands/webrep-commands.ts';

const program = new Command('palisade')
  .description('Palisade workload security platform')
  .version('0.1.0')
  .option('--url <url>', 'manager URL (or PALISADE_URL)')
  .option('--api-key <key>', 'API key (or PALISADE_API_KEY)')
  .option('--ca <file>', "manager's CA certificate (or PALISADE_CA)")
  .option('--json', 'print JSON');
registerQuickstartCommand(program);
registerManagerCommands(program);
registerAgentCommands(program);
registerPlatformCommands(program);
registerIpsCommands(program);
registerLogtestCommands(program);
registerVulnCommands(program);
registerMalwareCommands(program);
registerFirewallCommands(program);
registerFimCommands(program);
registerWebrepCommands(program);
registerAppcontrolCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
}
