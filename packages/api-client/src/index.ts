export { ApiClientError } from './api-client-error.ts';
export { type ApiTransport, fetchTransport } from './api-transport.ts';
export type { Forwarder, ForwarderFilter, ForwarderTestResult, NewForwarder } from './forwarder-types.ts';
export type { ForwarderDeadLetter, ForwarderDeadLetterPage, ForwarderDeadLetterPolicy } from './forwarder-dead-letter-types.ts';
export type { CloudAccount, CloudInstance, CloudSyncSummary, NewCloudAccount } from './cloud-account-types.ts';
export type { NewPlaybook, Playbook, PlaybookAction, PlaybookActionRecord, PlaybookTrigger } from './playbook-types.ts';
export {
  type ActivationToken,
  type ApiKey,
  type AuditEntry,
  type CatalogRule,
  type InventoryItem,
  type RuleAssignment,
  type RuleRecommendation,
  type ScanOutcome,
  type SettingOrigin,
  type StoredInventory,
  type Vulnerability,
  type Command,
  type Job,
  type Computer,
  type Event,
  PalisadeClient,
  type PalisadeClientOptions,
  type Policy,
  type Role,
  type SmartFolder,
  type Tenant,
} from './palisade-client.ts';
export { ConsoleClient, type ConsoleUser, CSRF_HEADER, cookieSessionTransport, type EventSummary, type SessionInfo } from './console-client.ts';
export { type AppControlDecision, type AppControlDrift, AppControlClient, type AppControlGlobalBlock, type AppControlRule, type AppControlRuleset } from './app-control-client.ts';
export type { IntegrityBaselineSummary, IntegrityContentDiff } from './integrity-types.ts';
export { type Artifact, type ArtifactCheckResult, ArtifactClient, type ArtifactDiagnostic, type ArtifactDownloadSchedule, type ArtifactKind, ArtifactRejectedError, type StoredArtifact } from './artifact-client.ts';
