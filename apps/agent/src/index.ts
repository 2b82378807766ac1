export { type ActivateOptions, type ActivationOutcome, activateAgent } from './activate-agent.ts';
export { AgentError, isAgentError } from './agent-error.ts';
export { type AgentIdentity, readIdentity } from './agent-identity.ts';
export { type AgentLogger, createAgentLogger, silentLogger } from './agent-logger.ts';
export type {
  AgentModule,
  ModuleCapabilities,
  ModuleContext,
  ModuleDiagnostic,
  ModuleEventInput,
} from './agent-module.ts';
export type { AgentStatusReport } from './agent-status-report.ts';
export { AGENT_VERSION } from './agent-version.ts';
export type { CommandHandler } from './command-poller.ts';
export {
  type ControlClientOptions,
  controlRequest,
  getAgentStatus,
  isAgentRunning,
  requestModuleCommand,
  requestTestEvents,
} from './control-client.ts';
export { defaultModuleRegistry, type ModuleEnvironment } from './default-module-registry.ts';
export { dataDirPaths, defaultDataDir, resolveDataDir } from './data-dir.ts';
export { EventSpool, type SpoolCounters } from './event-spool.ts';
export { collectHostFacts } from './host-facts.ts';
export { ModuleRegistry } from './module-registry.ts';
export { type AgentHandle, type RunAgentOptions, runAgent } from './run-agent.ts';
export type { TestEventsResult } from './test-event-generator.ts';
export * from './scanning/index.ts';
/** A protocol-checking stand-in for the manager's agent API, for tests of code that drives the agent. */
export { FakeManager } from './testing/fake-manager.ts';
export * from './inventory/index.ts';
export { FirewallModule, kernelLog, NftablesFirewall } from './modules/firewall/index.ts';
export { AntiMalwareModule, QuarantineVault, type QuarantineRecord } from './modules/anti-malware/index.ts';
