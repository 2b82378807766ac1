export {
  type AttributeMask,
  BUILTIN_MASKS,
  FILE_ATTRIBUTES,
  HASH_ATTRIBUTES,
  type HashAlgorithm,
  maskIncludes,
  maskNeedsHash,
  parseMaskExpression,
} from './attribute-mask.ts';
export { type AttrValue, type Entity, type EntityKind, entityId, type FileType } from './entity.ts';
export { fileEntity, type FileExtras, type FileStat, fileTypeOf, formatMode, type NameLookup } from './file-entity.ts';
export {
  type FileFilter,
  type IntegrityRule,
  IntegrityRuleSet,
  RULE_TYPES,
  type RuleType,
  SEVERITIES,
  type Severity,
} from './integrity-rule-set.ts';
export { DEFAULT_DIFF_BYTES, DEFAULT_SOURCES, loadIntegrityRules, MAX_DIFF_BYTES } from './load-integrity-rules.ts';
export {
  type AttributeChange,
  type Change,
  type ChangeKind,
  type ChangeSummary,
  compareAttributes,
  diffEntities,
  summarizeChanges,
} from './baseline-diff.ts';
export { groupEntities, idNames, type ParsedEntities, userEntities } from './account-entities.ts';
export { listeningPortEntities } from './listening-port-entities.ts';
export { dpkgPackageEntities, kernelModuleEntities } from './package-entities.ts';
export { cronEntities } from './cron-entities.ts';
export { serviceEntities, type UnitDirEntry } from './service-entities.ts';
export { decodeText, splitLines, type TextDiff, type UnifiedDiffOptions, unifiedDiff } from './text-diff.ts';
export {
  compileRedactionPattern,
  MAX_REDACTION_LINE,
  numberRedactions,
  type RedactedText,
  type RedactionOptions,
  redactSecrets,
  type SecretFingerprint,
} from './secret-redaction.ts';
export {
  type ContentDiff,
  contentDiff,
  type DiffPolicy,
  diffPolicy,
  type PreparedContent,
  prepareContent,
  type SkipReason,
} from './content-diff.ts';
