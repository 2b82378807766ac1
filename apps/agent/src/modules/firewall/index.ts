export { type CommandResult, type CommandRunner, spawnRunner } from './command-runner.ts';
export { FirewallModule, type FirewallModuleOptions } from './firewall-module.ts';
export { kernelLog, type LogSubscription } from './kernel-log.ts';
export {
  type ApplyResult,
  type FirewallStatus,
  NftablesFirewall,
  type NftablesFirewallOptions,
  type TestApplyOptions,
} from './nftables-firewall.ts';
