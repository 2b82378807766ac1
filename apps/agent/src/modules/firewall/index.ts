export { type CommandResult, type CommandRunner, spawnRunner } from './command-runner.ts';
export { type ApplyResult, type FirewallStatus, NftablesFirewall, type NftablesFirewallOptions, type TestApplyOptions } from './nftables-firewall.ts';
