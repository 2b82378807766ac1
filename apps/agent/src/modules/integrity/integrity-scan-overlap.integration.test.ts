import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import type { ModuleEventInput } from '../../agent-module.ts';
import { IntegrityModule } from './integrity-module.ts';
import { recordingContext } from './testing/recording-context.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-overlap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const detail = (e: ModuleEventInput, k: string) => (e.details as Record<string, unknown>)[k];

test('a real-time change during a long full scan is reported once and kept in the baseline', async () => {
  const tree = join(dir, 'overlap');
  mkdirSync(join(tree, 'live'), { recursive: true });
  mkdirSync(join(tree, 'big'), { recursive: true });
  writeFileSync(join(tree, 'live', 'app.conf'), 'a\n');
  // 100 files walked at 25 per second (the module's IO limit) keep every full scan busy for
  // about 4 s however fast the machine is: the real-time change below lands in the middle of the
  // full scan without depending on the machine's speed or load (real-time rescans are not paced).
  for (let i = 0; i < 100; i++) writeFileSync(join(tree, 'big', `f${i}`), `${i}\n`);
  const rules = `version: 1
rules:
  - id: live
    paths: [${tree}/live]
    realtime: true
  - id: big
    paths: [${tree}/big]
`;
  const cfg: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: {
      rules: [{ name: 'r', yaml: rules }],
      realtime: { debounceMs: 50 },
      scanOnStart: false,
      hashWorkers: 1,
      limits: { filesPerSecond: 25 },
    },
  };
  const events: ModuleEventInput[] = [];
  const m = new IntegrityModule();
  assert.deepEqual(m.configure(cfg), []);
  await m.start(recordingContext(cfg, events, join(dir, 'data-overlap')));
  await m.settled();
  assert.deepEqual(
    events.map((e) => e.type),
    ['integrity.baseline'],
  );

  let scanDone = false;
  const scan = m.scanNow().then(() => {
    scanDone = true;
  });
  // The paced walk of the 100 files takes about 4 s.
  await new Promise((r) => setTimeout(r, 100));
  appendFileSync(join(tree, 'live', 'app.conf'), 'b\n');
  const key = `${tree}/live/app.conf`;
  const deadline = Date.now() + 10_000;
  while (!events.some((e) => detail(e, 'key') === key) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(
    events.some((e) => detail(e, 'key') === key && detail(e, 'source') === 'realtime'),
    'real-time event',
  );
  assert.equal(scanDone, false, 'the real-time rescan finished while the full scan was still running');
  await scan;
  assert.equal(events.filter((e) => detail(e, 'key') === key).length, 1, 'the full scan did not report the file again (nor revert it)');
  const count = events.length;
  await m.scanNow();
  assert.equal(events.length, count, 'the baseline holds the new state: a quiet re-scan reports nothing');
  await m.stop();
});

test('more changes than maxEventsPerScan: the most severe one by one, the rest summed up', async () => {
  const tree = join(dir, 'flood');
  mkdirSync(join(tree, 'low'), { recursive: true });
  mkdirSync(join(tree, 'crit'), { recursive: true });
  const rules = `version: 1
rules:
  - id: low
    paths: [${tree}/low]
    severity: low
  - id: crit
    paths: [${tree}/crit]
    severity: critical
`;
  const cfg: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: { rules: [{ name: 'r', yaml: rules }], maxEventsPerScan: 3, scanOnStart: false },
  };
  const events: ModuleEventInput[] = [];
  const m = new IntegrityModule();
  assert.deepEqual(m.configure(cfg), []);
  await m.start(recordingContext(cfg, events, join(dir, 'data-flood')));
  await m.settled();
  for (let i = 0; i < 6; i++) writeFileSync(join(tree, 'low', `f${i}`), 'x');
  writeFileSync(join(tree, 'crit', 'implant'), 'x');
  await m.scanNow();
  const changes = events.filter((e) => e.type.startsWith('integrity.') && e.type !== 'integrity.baseline');
  // 6 + 1 created files and the two directories whose mtime changed: 9 changes, 3 sent.
  assert.equal(changes.length, 4, changes.map((e) => e.message).join('\n'));
  assert.equal(changes[0]!.severity, 'critical');
  const summary = changes.find((e) => e.type === 'integrity.changes-truncated');
  assert.equal(detail(summary!, 'total'), 9);
  assert.equal(detail(summary!, 'notSent'), 6);
  await m.stop();
});
