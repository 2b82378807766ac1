import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type LogRuleset, LogSession, loadLogRuleset, sourcesFromFiles } from '@palisade/log-rules';

/**
 * Every shipped log rule comes with log lines that trigger it (tests/*.json). Each case runs in a
 * fresh session; its lines are fed `times` times, `interval` seconds apart, and the last event
 * must match the expected rule, level, decoder and (when given) decoded fields.
 */
interface RuleCase {
  name: string;
  logs: string[];
  times?: number;
  interval?: number;
  rule: number;
  level: number;
  decoder: string;
  fields?: Record<string, string>;
}

const here = dirname(fileURLToPath(import.meta.url));

function load(): LogRuleset {
  const files = ['decoders', 'rules'].flatMap((d) =>
    readdirSync(join(here, d)).map((f) => ({ path: `${d}/${f}`, text: readFileSync(join(here, d, f), 'utf8') })),
  );
  const result = loadLogRuleset(sourcesFromFiles(files));
  assert.deepEqual(result.diagnostics, [], 'the default rules load without any diagnostic');
  assert.ok(result.ok);
  return result.value;
}

const ruleset = load();
const caseFiles = readdirSync(join(here, 'tests')).filter((f) => f.endsWith('.json'));
const expectedRules = new Set<number>();

for (const file of caseFiles) {
  const cases = JSON.parse(readFileSync(join(here, 'tests', file), 'utf8')) as RuleCase[];
  for (const c of cases) {
    expectedRules.add(c.rule);
    test(`${file}: ${c.name}`, () => {
      const session = new LogSession(ruleset);
      let time = 1_700_000_000;
      let last;
      for (let i = 0; i < (c.times ?? 1); i++) {
        for (const line of c.logs) {
          last = session.process(line, { location: '/var/log/test', time });
          time += c.interval ?? 1;
        }
      }
      assert.ok(last);
      assert.equal(last.event.decoder, c.decoder);
      assert.equal(last.rule?.id, c.rule, `matched ${last.rule?.id} (${last.rule?.description})`);
      assert.equal(last.rule?.level, c.level);
      for (const [k, v] of Object.entries(c.fields ?? {})) assert.equal(last.event.fields[k], v, `field ${k}`);
    });
  }
}

test('every alerting rule has at least one test case', () => {
  const missing: number[] = [];
  const walk = (nodes: LogRuleset['rules']['roots']): void => {
    for (const n of nodes) {
      if (n.rule.level > 0 && !expectedRules.has(n.rule.id)) missing.push(n.rule.id);
      walk(n.children);
    }
  };
  walk(ruleset.rules.roots);
  assert.deepEqual([...new Set(missing)].sort(), []);
});
