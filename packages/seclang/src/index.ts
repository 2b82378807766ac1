export { type Interruption, type MatchedRule, type MatchedVariable, Transaction, type TransactionOptions, toByteString } from './transaction.ts';
export { defaultEngineConfig, type EngineConfig, type LoadOptions, loadRuleSet, type RuleEngineMode, type RuleSet, RuleSetBuilder, type RuleSource } from './rule-set.ts';
export { type CompiledRegex, RegexCache, type RegexEngine, translatePcre } from './regex.ts';
export type { Rule } from './rule.ts';
export { detectSqli, detectXss } from './libinjection/index.ts';
export {
  buildFtwRequest,
  checkFtwStage,
  CRS_TEST_SETUP,
  type FtwFile,
  type FtwInput,
  type FtwOutput,
  type FtwTest,
  RECOMMENDED_BASE_CONFIG,
  runFtwStage,
  runFtwTest,
  type StageOutcome,
  type TestVerdict,
} from './crs-regression.ts';
export { type AppSecDocument, type AppSecLoadOptions, appSecToSecLang, loadAppSecRules } from './crowdsec-appsec.ts';
