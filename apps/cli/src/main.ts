import { Command } from '@commander-js/extra-typings';
import { CliError } from './commands/output.ts';

type Register = (program: Command) => void;

/**
 * Each top-level command and the modules that register it. Only the modules the invoked command
 * needs are loaded: a command does not pay for (or break with) engines it does not use. Help and
 * unknown commands load everything.
 */
const MODULES: Record<string, () => Promise<Register>> = {
  quickstart: async () => (await import('./commands/quickstart-command.ts')).registerQuickstartCommand,
  manager: async () => (await import('./commands/manager-commands.ts')).registerManagerCommands,
  agent: async () => (await import('./commands/agent-commands.ts')).registerAgentCommands,
  platform: async () => (await import('./commands/platform-commands.ts')).registerPlatformCommands,
  ips: async () => (await import('./commands/ips-commands.ts')).registerIpsCommands,
  logtest: async () => (await import('./commands/logtest-commands.ts')).registerLogtestCommands,
  vuln: async () => (await import('./commands/vuln-commands.ts')).registerVulnCommands,
  recommendations: async () => (await import('./commands/recommendation-commands.ts')).registerRecommendationCommands,
  malware: async () => (await import('./commands/malware-commands.ts')).registerMalwareCommands,
  firewall: async () => (await import('./commands/firewall-commands.ts')).registerFirewallCommands,
  fim: async () => (await import('./commands/fim-commands.ts')).registerFimCommands,
  webrep: async () => (await import('./commands/webrep-commands.ts')).registerWebrepCommands,
  artifacts: async () => (await import('./commands/artifact-commands.ts')).registerArtifactCommands,
  appcontrol: async () => (await import('./commands/appcontrol-commands.ts')).registerAppcontrolCommands,
  verify: async () => (await import('./commands/verify-commands.ts')).registerVerifyCommands,
  forwarders: async () => (await import('./commands/forwarders-commands.ts')).registerForwarderCommands,
  playbooks: async () => (await import('./commands/playbooks-commands.ts')).registerPlaybookCommands,
  'cloud-accounts': async () => (await import('./commands/cloud-accounts-commands.ts')).registerCloudAccountCommands,
  'deploy-script': async () => (await import('./commands/deploy-script-commands.ts')).registerDeployScriptCommands,
  users: async () => (await import('./commands/users-commands.ts')).registerUsersCommands,
};

/** Top-level command name -> the modules that define it (in registration order). */
const COMMANDS: Record<string, string[]> = {
  quickstart: ['quickstart'],
  manager: ['manager'],
  agent: ['agent'],
  tokens: ['platform'],
  computers: ['platform'],
  policies: ['platform'],
  events: ['platform'],
  'smart-folders': ['platform'],
  tenants: ['platform'],
  'api-keys': ['platform'],
  ips: ['ips'],
  logtest: ['logtest'],
  inventory: ['vuln'],
  vuln: ['vuln', 'recommendations'],
  recommendations: ['recommendations'],
  scan: ['malware'],
  firewall: ['firewall'],
  fim: ['fim'],
  webrep: ['webrep', 'artifacts'],
  signatures: ['artifacts'],
  artifacts: ['artifacts'],
  appcontrol: ['appcontrol'],
  verify: ['verify'],
  forwarders: ['forwarders'],
  playbooks: ['playbooks'],
  'cloud-accounts': ['cloud-accounts'],
  'deploy-script': ['deploy-script'],
  users: ['users'],
};

const program = new Command('palisade')
  .description('Palisade workload security platform')
  .version('0.1.0')
  .option('--url <url>', 'manager URL (or PALISADE_URL)')
  .option('--api-key <key>', 'API key (or PALISADE_API_KEY)')
  .option('--ca <file>', "manager's CA certificate (or PALISADE_CA)")
  .option('--json', 'print JSON');

/** The first argument that is not a global option (or its value). */
function topLevelCommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--url' || a === '--api-key' || a === '--ca') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

const wanted = COMMANDS[topLevelCommand(process.argv.slice(2)) ?? ''] ?? Object.keys(MODULES);
for (const name of wanted) (await MODULES[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
}
