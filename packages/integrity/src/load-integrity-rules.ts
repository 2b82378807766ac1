import { type Diagnostic, LineIndex, type LoadResult, loadResult } from '@palisade/diagnostics';
import { isMap, isScalar, isSeq, type Node, type Pair, parseDocument, type YAMLMap } from 'yaml';
import { type AttributeMask, type HashAlgorithm, HASH_ATTRIBUTES, parseMaskExpression } from './attribute-mask.ts';
import { compileRedactionPattern } from './secret-redaction.ts';
import {
  type FileFilter,
  type IntegrityRule,
  IntegrityRuleSet,
  RULE_TYPES,
  type RuleType,
  SEVERITIES,
  type Severity,
} from './integrity-rule-set.ts';

const RULE_KEYS = new Set([
  'id',
  'description',
  'type',
  'paths',
  'include',
  'exclude',
  'depth',
  'followLinks',
  'mask',
  'hash',
  'severity',
  'fullHash',
  'realtime',
  'reportChanges',
  'diffMaxBytes',
  'redact',
  'redactPatterns',
  'filter',
]);

/** Largest file a rule may ask text diffs of (the default is 64 KiB). */
export const MAX_DIFF_BYTES = 1_048_576;
export const DEFAULT_DIFF_BYTES = 65_536;

/** Default mask per rule type: files are compared like read-only content, everything else fully. */
const DEFAULT_MASK: Record<RuleType, string> = {
  files: 'ReadOnly',
  users: 'IgnoreNone',
  groups: 'IgnoreNone',
  packages: 'IgnoreNone',
  ports: 'IgnoreNone',
  services: 'IgnoreNone',
  'kernel-modules': 'IgnoreNone',
  crontabs: 'IgnoreNone',
};

/** Where the collectors read when a non-file rule names no paths. */
export const DEFAULT_SOURCES: Record<Exclude<RuleType, 'files'>, string[]> = {
  users: ['/etc/passwd', '/etc/shadow'],
  groups: ['/etc/group'],
  packages: ['/var/lib/dpkg/status'],
  ports: ['/proc/net/tcp', '/proc/net/tcp6', '/proc/net/udp', '/proc/net/udp6'],
  services: ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'],
  'kernel-modules': ['/proc/modules'],
  crontabs: ['/etc/crontab', '/etc/cron.d', '/var/spool/cron/crontabs'],
};

/**
 * Loads a YAML rule file. Every problem is reported with its position and the whole file is
 * refused if any is an error, so a typo never silently leaves a directory unmonitored.
 */
export function loadIntegrityRules(text: string, file = '<rules>'): LoadResult<IntegrityRuleSet> {
  const diagnostics: Diagnostic[] = [];
  const lines = new LineIndex(text);
  const at = (node: Node | null | undefined, code: string, message: string, offset = 0): void => {
    const pos = node?.range ? lines.position(node.range[0] + offset) : undefined;
    diagnostics.push({ code, message, severity: 'error', file, line: pos?.line, column: pos?.column });
  };

  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  for (const e of doc.errors) {
    const pos = lines.position(e.pos[0]);
    diagnostics.push({ code: 'FIM_RULES_SYNTAX', message: e.message.split('\n')[0]!, severity: 'error', file, ...pos });
  }
  if (diagnostics.length) return loadResult(new IntegrityRuleSet([]), diagnostics);

  const top = doc.contents;
  if (!isMap(top)) {
    at(top, 'FIM_RULES_SHAPE', 'the rule file must be a mapping with a `rules` list');
    return loadResult(new IntegrityRuleSet([]), diagnostics);
  }
  for (const pair of top.items) {
    const k = keyOf(pair);
    if (!['version', 'masks', 'rules'].includes(k)) at(pair.key as Node, 'FIM_RULES_UNKNOWN_KEY', `unknown top-level key '${k}'`);
  }
  const version = top.get('version', true) as Node | undefined;
  if (version !== undefined && !(isScalar(version) && version.value === 1)) {
    at(version, 'FIM_RULES_VERSION', 'only `version: 1` is supported');
  }

  const custom = new Map<string, AttributeMask>();
  const masksNode = top.get('masks', true) as Node | undefined;
  if (masksNode !== undefined) {
    if (!isMap(masksNode)) at(masksNode, 'FIM_RULES_SHAPE', '`masks` must map names to mask expressions');
    else {
      for (const pair of masksNode.items) {
        const name = keyOf(pair);
        const parsed = maskFrom(pair.value as Node, custom, at);
        if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) at(pair.key as Node, 'FIM_MASK_NAME', `invalid mask name '${name}'`);
        else if (parsed) custom.set(name, parsed.mask);
      }
    }
  }

  const rulesNode = top.get('rules', true) as Node | undefined;
  const rules: IntegrityRule[] = [];
  if (!isSeq(rulesNode)) {
    at(rulesNode ?? top, 'FIM_RULES_SHAPE', '`rules` must be a list');
    return loadResult(new IntegrityRuleSet([]), diagnostics);
  }
  const seen = new Set<string>();
  for (const item of rulesNode.items as Node[]) {
    if (!isMap(item)) {
      at(item, 'FIM_RULES_SHAPE', 'each rule must be a mapping');
      continue;
    }
    const idNode = item.get('id', true) as Node | undefined;
    if (isScalar(idNode) && typeof idNode.value === 'string') {
      if (seen.has(idNode.value)) at(idNode, 'FIM_RULE_DUPLICATE_ID', `duplicate rule id '${idNode.value}'`);
      seen.add(idNode.value);
    }
    const rule = ruleFrom(item, custom, at);
    if (rule) rules.push(rule);
  }
  diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return loadResult(new IntegrityRuleSet(rules), diagnostics);
}

type At = (node: Node | null | undefined, code: string, message: string, offset?: number) => void;

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function maskFrom(node: Node | undefined, custom: Map<string, AttributeMask>, at: At): { mask: AttributeMask; text: string } | undefined {
  let text: string;
  if (isScalar(node) && typeof node.value === 'string') text = node.value;
  else if (isSeq(node) && node.items.every((i) => isScalar(i) && typeof i.value === 'string')) {
    text = node.items.map((i) => String((i as { value: string }).value)).join(' +');
  } else {
    at(node, 'FIM_MASK_INVALID', 'a mask is a string like `ReadOnly -mtime` or a list of attribute names');
    return undefined;
  }
  const parsed = parseMaskExpression(text, custom);
  if ('error' in parsed) {
    // A list is joined, so the offset only maps 1:1 into the source for the string form.
    at(node, 'FIM_MASK_INVALID', parsed.error.message, isScalar(node) && node.type === 'PLAIN' ? parsed.error.offset : 0);
    return undefined;
  }
  return { mask: parsed.mask, text };
}

function ruleFrom(map: YAMLMap, custom: Map<string, AttributeMask>, at: At): IntegrityRule | undefined {
  let failed = false;
  const fail: At = (n, c, m, o) => {
    failed = true;
    at(n, c, m, o);
  };
  for (const pair of map.items) {
    const k = keyOf(pair);
    if (!RULE_KEYS.has(k)) fail(pair.key as Node, 'FIM_RULE_UNKNOWN_KEY', `unknown rule key '${k}'`);
  }
  const node = (k: string): Node | undefined => map.get(k, true) as Node | undefined;
  const str = (k: string, required: boolean): string | undefined => {
    const n = node(k);
    if (n === undefined) {
      if (required) fail(map, 'FIM_RULE_MISSING_FIELD', `rule needs '${k}'`);
      return undefined;
    }
    if (!isScalar(n) || typeof n.value !== 'string' || n.value === '') {
      fail(n, 'FIM_RULE_INVALID_VALUE', `'${k}' must be a non-empty string`);
      return undefined;
    }
    return n.value;
  };
  const bool = (k: string): boolean => {
    const n = node(k);
    if (n === undefined) return false;
    if (!isScalar(n) || typeof n.value !== 'boolean') {
      fail(n, 'FIM_RULE_INVALID_VALUE', `'${k}' must be true or false`);
      return false;
    }
    return n.value;
  };
  const list = (k: string): string[] => {
    const n = node(k);
    if (n === undefined) return [];
    if (isScalar(n) && typeof n.value === 'string') return [n.value];
    if (!isSeq(n) || !n.items.every((i) => isScalar(i) && typeof i.value === 'string')) {
      fail(n, 'FIM_RULE_INVALID_VALUE', `'${k}' must be a string or a list of strings`);
      return [];
    }
    return n.items.map((i) => String((i as { value: string }).value));
  };

  const id = str('id', true);
  if (id !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) fail(node('id'), 'FIM_RULE_INVALID_VALUE', `invalid rule id '${id}'`);
  const typeText = str('type', false) ?? 'files';
  const type = RULE_TYPES.includes(typeText as RuleType) ? (typeText as RuleType) : undefined;
  if (!type) fail(node('type'), 'FIM_RULE_INVALID_TYPE', `unknown rule type '${typeText}' (expected ${RULE_TYPES.join(', ')})`);
  const paths = list('paths');
  if (type === 'files' && paths.length === 0) fail(node('paths') ?? map, 'FIM_RULE_MISSING_FIELD', 'a files rule needs `paths`');
  const pathsNode = node('paths');
  paths.forEach((p, i) => {
    const n = isSeq(pathsNode) ? (pathsNode.items[i] as Node) : pathsNode;
    if (!p.startsWith('/')) fail(n, 'FIM_RULE_PATH_NOT_ABSOLUTE', `path '${p}' must be absolute`);
    else if (/\/\.\.?(\/|$)/.test(p)) fail(n, 'FIM_RULE_PATH_NOT_ABSOLUTE', `path '${p}' must not contain . or .. segments`);
  });
  const include = list('include');
  const exclude = list('exclude');
  if (type !== undefined && type !== 'files' && (include.length || exclude.length)) {
    fail(node('include') ?? node('exclude'), 'FIM_RULE_INVALID_VALUE', 'include/exclude only apply to files rules');
  }

  let depth = Number.POSITIVE_INFINITY;
  const depthNode = node('depth');
  if (depthNode !== undefined) {
    if (!isScalar(depthNode) || typeof depthNode.value !== 'number' || !Number.isInteger(depthNode.value) || depthNode.value < 0) {
      fail(depthNode, 'FIM_RULE_INVALID_VALUE', '`depth` must be an integer >= 0');
    } else depth = depthNode.value;
  }

  const severityText = str('severity', false) ?? 'medium';
  const severity = SEVERITIES.includes(severityText as Severity) ? (severityText as Severity) : undefined;
  if (!severity) fail(node('severity'), 'FIM_RULE_INVALID_VALUE', `severity must be one of ${SEVERITIES.join(', ')}`);

  const maskNode = node('mask');
  let mask: { mask: AttributeMask; text: string } | undefined;
  if (maskNode !== undefined) {
    mask = maskFrom(maskNode, custom, at);
    if (!mask) failed = true;
  } else if (type) {
    const parsed = parseMaskExpression(DEFAULT_MASK[type]);
    if ('mask' in parsed) mask = { mask: parsed.mask, text: DEFAULT_MASK[type] };
  }

  const hashNames = node('hash') === undefined ? ['sha256'] : list('hash');
  const hash: HashAlgorithm[] = [];
  for (const h of hashNames) {
    if ((HASH_ATTRIBUTES as readonly string[]).includes(h)) hash.push(h as HashAlgorithm);
    else fail(node('hash'), 'FIM_RULE_INVALID_VALUE', `unknown hash '${h}' (expected ${HASH_ATTRIBUTES.join(', ')})`);
  }

  const filterText = str('filter', false);
  let filter: FileFilter | undefined;
  if (filterText !== undefined) {
    if (['setuid', 'setgid', 'setid'].includes(filterText) && type === 'files') filter = filterText as FileFilter;
    else fail(node('filter'), 'FIM_RULE_INVALID_VALUE', '`filter` is setuid, setgid or setid, on files rules');
  }

  // reportChanges: true (every regular file of the rule) or globs naming the files (relative to a
  // root, or absolute), like include/exclude.
  const rcNode = node('reportChanges');
  let reportChanges = false;
  let reportChangesFor: string[] = [];
  if (rcNode !== undefined) {
    if (isScalar(rcNode) && typeof rcNode.value === 'boolean') reportChanges = rcNode.value;
    else {
      reportChangesFor = list('reportChanges');
      reportChanges = reportChangesFor.length > 0;
    }
    if (reportChanges && type !== undefined && type !== 'files')
      fail(rcNode, 'FIM_RULE_INVALID_VALUE', '`reportChanges` (text diffs) only applies to files rules');
  }
  let diffMaxBytes = DEFAULT_DIFF_BYTES;
  const dmbNode = node('diffMaxBytes');
  if (dmbNode !== undefined) {
    if (
      !isScalar(dmbNode) ||
      typeof dmbNode.value !== 'number' ||
      !Number.isInteger(dmbNode.value) ||
      dmbNode.value < 1 ||
      dmbNode.value > MAX_DIFF_BYTES
    ) {
      fail(dmbNode, 'FIM_RULE_INVALID_VALUE', `\`diffMaxBytes\` must be an integer from 1 to ${MAX_DIFF_BYTES}`);
    } else diffMaxBytes = dmbNode.value;
  }
  const redact = node('redact') === undefined ? true : bool('redact');
  const redactPatterns = list('redactPatterns');
  const rpNode = node('redactPatterns');
  redactPatterns.forEach((p, i) => {
    const compiled = compileRedactionPattern(p);
    if ('error' in compiled) {
      const n = isSeq(rpNode) ? (rpNode.items[i] as Node) : rpNode;
      fail(n, 'FIM_REDACT_PATTERN_INVALID', `redaction pattern ${JSON.stringify(p)}: ${compiled.error}`);
    }
  });

  const rule: IntegrityRule = {
    id: id ?? '',
    description: str('description', false) ?? '',
    type: type ?? 'files',
    paths: paths.map((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p)),
    include,
    exclude,
    depth,
    followLinks: bool('followLinks'),
    maskText: mask?.text ?? '',
    mask: mask?.mask ?? { all: false, attrs: new Set(), without: new Set(), growingSize: false },
    hash,
    severity: severity ?? 'medium',
    fullHash: bool('fullHash'),
    realtime: bool('realtime'),
    reportChanges,
    reportChangesFor,
    diffMaxBytes,
    redact,
    redactPatterns,
    ...(filter ? { filter } : {}),
  };
  return failed ? undefined : rule;
}
