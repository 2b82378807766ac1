export { CdbList } from './cdb-list.ts';
export { type Decoder, DecoderSet } from './decoder-set.ts';
export { Expression, type ExpressionType } from './expression.ts';
export { type LogEvent } from './log-event.ts';
export { listName, LogRuleset, loadLogRuleset, type RulesetSources, type SourceFile } from './log-ruleset.ts';
export {
  type DecodedEvent,
  LogSession,
  type MatchedRule,
  type ProcessOptions,
  type ProcessResult,
} from './log-session.ts';
export { compileOsMatch } from './os-match.ts';
export { compileOsRegex, execOsRegex } from './os-regex.ts';
export { compilePcre2, translatePcre2 } from './pcre2.ts';
export type { Rule } from './rule.ts';
export { RuleSet } from './rule-set.ts';
export { preDecodeSyslog, type SyslogHeader } from './syslog-predecoder.ts';
export { parseXml, type XmlNode } from './xml-node.ts';
export {
  loadWazuhSuiteRuleset,
  parseWazuhCases,
  runWazuhCase,
  runWazuhSuite,
  type WazuhCase,
  type WazuhCaseResult,
  type WazuhSuiteSummary,
  wazuhSuiteSources,
} from './wazuh-suite.ts';
export { sourcesFromFiles } from './sources-from-files.ts';
export { type LogSeverity, severityOfLevel } from './severity-of-level.ts';
