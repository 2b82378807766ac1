export { type Decision, type FileFacts, AppControlPolicy, type PolicyInput, type Verdict } from './app-control-policy.ts';
export type { AppControlRule, HashRule, PackageRule, PathRule, RuleAction, Ruleset, RulesetScope } from './app-control-rule.ts';
export { type DriftAccess, type DriftObservation, type DriftRecord, DriftTracker } from './drift-tracker.ts';
export { APP_CONTROL_MODES, type AppControlMode, type Enforcement, enforcementFor } from './enforcement-mode.ts';
export { diffInventory, type InventoryDiff, type InventoryMap } from './inventory-diff.ts';
export { loadRuleset, normalizeSha256 } from './load-ruleset.ts';
export { type MaintenanceWindow, maintenanceActive, parseDuration } from './maintenance-window.ts';
export { compileNamePattern, compilePathPattern } from './path-pattern.ts';
export {
  canonicalPackagePath,
  dpkgPackageOfInfoFile,
  type PackageFile,
  type PackageIndex,
  parseDpkgMd5sums,
  parseRpmFileDigests,
  RPM_QUERY_FORMAT,
} from './package-origin.ts';
