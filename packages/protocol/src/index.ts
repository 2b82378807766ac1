export { AGENT_API, PROTOCOL_VERSION, agentAuthorization } from './agent-api-paths.ts';
export {
  type AgentCommand,
  AgentCommandSchema,
  COMMAND_KINDS,
  type CommandPollResponse,
  CommandPollResponseSchema,
  type CommandResult,
  CommandResultSchema,
} from './agent-command.ts';
export {
  type ActivationRequest,
  ActivationRequestSchema,
  type ActivationResponse,
  ActivationResponseSchema,
  type CloudMetadata,
  CloudMetadataSchema,
  type ConfigResponse,
  ConfigResponseSchema,
  type HeartbeatRequest,
  HeartbeatRequestSchema,
  type HeartbeatResponse,
  HeartbeatResponseSchema,
  type HostFacts,
  HostFactsSchema,
  type ModuleStatus,
  ModuleStatusSchema,
} from './agent-messages.ts';
export {
  type EffectiveConfig,
  EffectiveConfigSchema,
  type ModuleConfig,
  ModuleConfigSchema,
} from './effective-config.ts';
export {
  type AgentEvent,
  AgentEventSchema,
  type EventBatch,
  type EventBatchAck,
  EventBatchAckSchema,
  EventBatchSchema,
} from './event-schema.ts';
export {
  COMPUTER_STATUSES,
  type ComputerStatus,
  EVENT_SOURCES,
  type EventSource,
  MODULE_MODES,
  MODULE_NAMES,
  MODULE_STATES,
  type ModuleMode,
  type ModuleName,
  type ModuleState,
  SEVERITIES,
  type Severity,
} from './module-names.ts';
export { type InventoryReport, InventoryReportSchema } from './inventory-report.ts';
export { ARTIFACT_KINDS, ARTIFACT_SETTINGS, type ArtifactKind, type ArtifactRef, artifactDownloadPath, artifactFileName, isArtifactRef } from './artifact-refs.ts';
export {
  type AppControlDrift,
  type AppControlDriftDecision,
  type AppControlGlobalBlock,
  DRIFT_STATUSES,
  type DriftStatus,
} from './app-control-types.ts';
export type { ArtifactInfo } from './artifact-info.ts';
export type { ConsoleUser, EventSummary } from './console-types.ts';
export { DEAD_LETTER_REASONS, type DeadLetterReason, type ForwarderDeadLetter } from './forwarder-dead-letter.ts';
export type { IntegrityBaselineSummary, IntegrityContentDiff } from './integrity-types.ts';
