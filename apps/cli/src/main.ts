import { Command } from '@commander-js/extra-typings';
import { registerAppcontrolCommands } from './commands/appcontrol-commands.ts';
import { registerFimCommands } from './commands/fim-commands.ts';
import { registerFirewallCommands } from './commands/firewall-commands.ts';
import { registerIpsCommands } from './commands/ips-commands.ts';
import { registerLogtestCommands } from './commands/logtest-commands.ts';
import { registerMalwareCommands } from './commands/malware-commands.ts';
import { CliError } from './commands/output.ts';
import { registerVulnCommands } from './commands/vuln-commands.ts';
import { registerWebrepCommands } from './commands/webrep-commands.ts';

const program = new Command('palisade').description('Palisade workload security platform').version('0.1.0');
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
