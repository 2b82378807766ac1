import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readRuleSources } from './read-rule-sources.ts';
import { type EngineLine, RulesetLoadError, WatchedEngine } from './watched-engine.ts';

const BUNDLED = fileURLToPath(new URL('../../../../../rules/log', import.meta.url));

/**
 * A rule whose os_regex backtracks polynomially with a high degree: on 100 characters without a
 * match the engine runs for tens of seconds (measured: 22 s for this shape). It hangs below a
 * decoder of its own, so only `patho:` lines reach it.
 */
const PATHOLOGICAL = {
  path: 'extra/patho-decoder.xml',
  text: '<decoder name="patho"><program_name>^patho$</program_name></decoder>',
};
const PATHOLOGICAL_RULE = {
  path: 'extra/patho-rules.xml',
  text: `<group name="test,">
  <rule id="299000" level="7">
    <decoded_as>patho</decoded_as>
    <regex>\\w+\\w+\\w+\\w+\\w+\\.\\d\\s</regex>
    <description>pathological</description>
  </rule>
</group>`,
};

const engines: WatchedEngine[] = [];
after(async () => {
  for (const e of engines) await e.stop();
});

function ssh(i: number, from = '203.0.113.5'): string {
  return `Nov 27 02:00:${String(i).padStart(2, '0')} web1 sshd[4242]: Failed password for root from ${from} port ${40000 + i} ssh2`;
}

const at = (text: string, time: number): EngineLine => ({ text, location: '/var/log/auth.log', format: 'syslog', time });

test('correlation spans batches: the 8th failure from one address within 2 minutes is the brute force', async () => {
  const e = new WatchedEngine({ sources: readRuleSources([BUNDLED]), lineBudgetMs: 2000, minLevel: 3 });
  engines.push(e);
  await e.start();
  const first = await e.process([0, 1, 2, 3].map((i) => at(ssh(i), 1000 + i * 5)));
  assert.deepEqual(
    first.alerts.map((a) => a.rule.id),
    [200101, 200101, 200101, 200101],
  );
  // Other addresses do not add to 203.0.113.5's count.
  const other = await e.process([at(ssh(9, '198.51.100.1'), 1021), at(ssh(10, '198.51.100.2'), 1022)]);
  assert.deepEqual(
    other.alerts.map((a) => a.rule.id),
    [200101, 200101],
  );
  const second = await e.process([4, 5, 6, 7].map((i) => at(ssh(i), 1000 + i * 5)));
  assert.deepEqual(
    second.alerts.map((a) => a.rule.id),
    [200101, 200101, 200101, 200110],
  );
  const bf = second.alerts[3]!;
  assert.equal(bf.index, 3);
  assert.equal(bf.rule.level, 10);
  assert.equal(bf.event.fields.srcip, '203.0.113.5');
  assert.ok(bf.rule.groups.includes('brute_force'));
  assert.equal(bf.event.fullLog, ssh(7));
  assert.deepEqual(second.skipped, []);
});

test('a line that makes a rule run away is skipped within the budget; the rest of the batch and later batches still alert', async () => {
  const sources = readRuleSources([BUNDLED], [PATHOLOGICAL, PATHOLOGICAL_RULE]);
  const e = new WatchedEngine({ sources, lineBudgetMs: 300, minLevel: 3 });
  engines.push(e);
  await e.start();
  const patho = `Nov 27 02:00:00 web1 patho[1]: ${'a'.repeat(200)}!`;
  const started = performance.now();
  const r = await e.process([at(ssh(0, '192.0.2.9'), 10), at(patho, 11), at(ssh(1, '192.0.2.9'), 12)]);
  const ms = performance.now() - started;
  assert.deepEqual(
    r.alerts.map((a) => [a.index, a.rule.id]),
    [
      [0, 200101],
      [2, 200101],
    ],
  );
  assert.deepEqual(
    r.skipped.map((s) => [s.index, s.reason]),
    [[1, 'timeout']],
  );
  assert.equal(e.restarts, 1);
  // Budget plus one reload of the bundled rules, far from the tens of seconds the line would take.
  assert.ok(ms < 15_000, `took ${ms} ms`);
  // The rule still works on lines it can decide quickly.
  const ok = await e.process([at('Nov 27 02:00:01 web1 patho[1]: abcdefg.1 ', 13)]);
  assert.deepEqual(
    ok.alerts.map((a) => a.rule.id),
    [299000],
  );
});

test('a ruleset with an error does not load at all', async () => {
  const e = new WatchedEngine({
    sources: readRuleSources(
      [BUNDLED],
      [
        {
          path: 'extra/bad.xml',
          text: '<group name="x,"><rule id="299001" level="3"><if_sid>1</if_sid><regex type="pcre2">(</regex><description>d</description></rule></group>',
        },
      ],
    ),
    lineBudgetMs: 1000,
    minLevel: 3,
  });
  engines.push(e);
  await assert.rejects(e.start(), (err: unknown) => {
    assert.ok(err instanceof RulesetLoadError);
    assert.ok(err.diagnostics.some((d) => d.severity === 'error' && d.file === 'extra/bad.xml' && typeof d.line === 'number'));
    return true;
  });
});
