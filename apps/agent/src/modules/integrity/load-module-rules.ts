import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '@palisade/diagnostics';
import { IntegrityRuleSet, loadIntegrityRules } from '@palisade/integrity';
import type { IntegritySettings } from './integrity-settings.ts';

export interface ModuleRules {
  rules: IntegrityRuleSet;
  /** Hash of every rule text in order: a different value means the baseline was built under other rules. */
  sha256: string;
}

/**
 * Reads the rule files and compiles them with the inline rules into one rule set. All or
 * nothing: one unreadable file, one error or one rule id used by two sources refuses the lot,
 * so a typo never silently leaves a directory unmonitored.
 */
export function loadModuleRules(settings: IntegritySettings): { value?: ModuleRules; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const sources: { file: string; text: string }[] = [];
  for (const file of settings.ruleFiles) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      diagnostics.push({ code: 'FIM_RULES_UNREADABLE', message: `cannot read ${file}: ${(e as Error).message}`, severity: 'error', file });
    }
  }
  for (const r of settings.rules) sources.push({ file: `modules.integrity.rules.${r.name}`, text: r.yaml });
  const hash = createHash('sha256');
  const all = [];
  const owner = new Map<string, string>();
  for (const src of sources) {
    hash.update(`${src.file}\0${src.text}\0`);
    const loaded = loadIntegrityRules(src.text, src.file);
    diagnostics.push(...loaded.diagnostics);
    if (!loaded.ok) continue;
    for (const rule of loaded.value.rules) {
      const first = owner.get(rule.id);
      if (first !== undefined) {
        diagnostics.push({
          code: 'FIM_RULE_DUPLICATE_ID',
          message: `rule id '${rule.id}' is used by ${first} and ${src.file}`,
          severity: 'error',
          file: src.file,
        });
        continue;
      }
      owner.set(rule.id, src.file);
      all.push(rule);
    }
  }
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { value: { rules: new IntegrityRuleSet(all), sha256: hash.digest('hex') }, diagnostics };
}
