import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import type { ModuleEventInput } from '../../agent-module.ts';
import { XattrReader } from '../../fim/index.ts';
import { IntegrityModule } from './integrity-module.ts';
import { waitFor as pollFor, recordingContext } from './testing/recording-context.ts';

/**
 * The module on a real temp tree with real inotify watches: baseline without events, real-time
 * events for each change kind, scheduled-scan-only paths, and a change made while the module was
 * stopped found by the scan on the next start.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-module-'));
const tree = join(dir, 'tree');
const dataDir = join(dir, 'data');
mkdirSync(join(tree, 'live', 'sub'), { recursive: true });
mkdirSync(join(tree, 'quiet'), { recursive: true });
mkdirSync(dataDir);
writeFileSync(join(tree, 'live', 'app.conf'), 'port = 80\n');
writeFileSync(join(tree, 'live', 'sub', 'deep.conf'), 'a\n');
writeFileSync(join(tree, 'live', 'old-name'), 'rename me\n');
writeFileSync(join(tree, 'live', 'doomed'), 'x\n');
writeFileSync(join(tree, 'quiet', 'data.bin'), 'v1\n');
writeFileSync(join(tree, 'single.conf'), 'one\n');

after(() => rmSync(dir, { recursive: true, force: true }));

const RULES = `version: 1
rules:
  - id: live
    paths: [${tree}/live]
    severity: high
    realtime: true
  - id: quiet
    paths: [${tree}/quiet]
    severity: low
  - id: single
    paths: [${tree}/single.conf]
    severity: critical
    realtime: true
`;

function config(extra: Record<string, unknown> = {}): ModuleConfig {
  return {
    enabled: true,
    mode: 'detect',
    settings: { rules: [{ name: 'test', yaml: RULES }], realtime: { debounceMs: 100 }, schedule: { intervalSeconds: 3600 }, ...extra },
  };
}

const context = (cfg: ModuleConfig, events: ModuleEventInput[]) => recordingContext(cfg, events, dataDir);
const waitFor = <T>(what: string, check: () => T | undefined, ms = 5000) => pollFor(what, check, ms);

const detail = (e: ModuleEventInput, k: string) => (e.details as Record<string, unknown>)[k];
const find = (events: ModuleEventInput[], type: string, key: string) => events.find((e) => e.type === type && detail(e, 'key') === key);

test('configure refuses bad settings and broken inline rules', () => {
  const m = new IntegrityModule();
  assert.equal(
    m.configure({ enabled: true, mode: 'detect', settings: { schedule: { intervalSeconds: 1 } } })[0]?.code,
    'FIM_SETTINGS_INVALID',
  );
  assert.equal(
    m.configure({ enabled: true, mode: 'detect', settings: { schedule: { cron: 'every tuesday' } } })[0]?.code,
    'FIM_SETTINGS_INVALID',
  );
  const bad = m.configure({
    enabled: true,
    mode: 'detect',
    settings: { rules: [{ name: 'x', yaml: 'rules:\n  - id: a\n    typo: 1\n' }] },
  });
  assert.ok(
    bad.some((d) => d.code === 'FIM_RULE_UNKNOWN_KEY' && d.file === 'modules.integrity.rules.x' && d.line === 3),
    JSON.stringify(bad),
  );
  assert.deepEqual(m.configure(config()), []);
  assert.deepEqual(m.configure({ enabled: true, mode: 'detect', settings: {} }), [], 'no settings: the bundled rules');
});

test('baseline, real-time changes of each kind, scheduled-only paths, changes while stopped', async () => {
  const events: ModuleEventInput[] = [];
  let m = new IntegrityModule();
  assert.deepEqual(m.configure(config()), []);
  await m.start(context(config(), events));
  await m.settled();
  assert.deepEqual(
    events.map((e) => e.type),
    ['integrity.baseline'],
    'the first run builds the baseline and reports no change',
  );
  const st = m.status();
  assert.equal(st.state, 'running');
  assert.equal(st.details?.baselineReady, true);
  assert.ok((st.details?.realtime as { watches: number }).watches >= 3, JSON.stringify(st.details));

  // Content change in a watched directory.
  let t0 = Date.now();
  appendFileSync(join(tree, 'live', 'app.conf'), 'debug = true\n');
  const upd = await waitFor('updated event', () => find(events, 'integrity.updated', `${tree}/live/app.conf`));
  const realtimeMs = Date.now() - t0;
  assert.equal(upd.severity, 'high');
  assert.equal(upd.ruleId, 'live');
  assert.equal(detail(upd, 'source'), 'realtime');
  const names = (detail(upd, 'attributes') as { name: string }[]).map((a) => a.name);
  assert.ok(names.includes('sha256') && names.includes('size'), names.join());

  // Mode change in a subdirectory, a file in a directory created now, a rename, a deletion.
  chmodSync(join(tree, 'live', 'sub', 'deep.conf'), 0o4755);
  mkdirSync(join(tree, 'live', 'newdir'));
  writeFileSync(join(tree, 'live', 'newdir', 'dropped.sh'), '#!/bin/sh\n');
  renameSync(join(tree, 'live', 'old-name'), join(tree, 'live', 'new-name'));
  unlinkSync(join(tree, 'live', 'doomed'));
  const mode = await waitFor('mode change', () => find(events, 'integrity.updated', `${tree}/live/sub/deep.conf`));
  assert.deepEqual(detail(mode, 'flags'), ['setid-added']);
  await waitFor('file in a new directory', () => find(events, 'integrity.created', `${tree}/live/newdir/dropped.sh`));
  const ren = await waitFor('rename', () => find(events, 'integrity.renamed', `${tree}/live/new-name`));
  assert.equal(detail(ren, 'from'), `${tree}/live/old-name`);
  await waitFor('deletion', () => find(events, 'integrity.deleted', `${tree}/live/doomed`));
  // The new directory is watched: a later file inside it is seen in real time too.
  writeFileSync(join(tree, 'live', 'newdir', 'second'), 'x\n');
  await waitFor('file in the newly watched directory', () => find(events, 'integrity.created', `${tree}/live/newdir/second`));

  // A file rule root is watched through its parent: replacing it the way editors do is seen.
  t0 = Date.now();
  writeFileSync(join(tree, 'single.conf.tmp'), 'two\n');
  renameSync(join(tree, 'single.conf.tmp'), join(tree, 'single.conf'));
  const single = await waitFor('replaced single file', () => find(events, 'integrity.updated', `${tree}/single.conf`));
  assert.equal(single.severity, 'critical');
  assert.ok(realtimeMs < 5000 && Date.now() - t0 < 5000);

  // Not real-time: only a scan finds it.
  writeFileSync(join(tree, 'quiet', 'data.bin'), 'v2\n');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(find(events, 'integrity.updated', `${tree}/quiet/data.bin`), undefined);
  await m.scanNow();
  const quiet = find(events, 'integrity.updated', `${tree}/quiet/data.bin`);
  assert.equal(quiet && detail(quiet, 'source'), 'scan');
  assert.equal(quiet?.severity, 'low');
  // The scan does not report again what real time already reported.
  assert.equal(events.filter((e) => detail(e, 'key') === `${tree}/live/app.conf`).length, 1);

  // Stopped: a change now is found by the scan on the next start, from the persisted baseline.
  await m.stop();
  const before = events.length;
  writeFileSync(join(tree, 'live', 'app.conf'), 'port = 8080\n');
  writeFileSync(join(tree, 'quiet', 'while-stopped'), 'new\n');
  m = new IntegrityModule();
  assert.deepEqual(m.configure(config()), []);
  await m.start(context(config(), events));
  await m.settled();
  const fresh = events.slice(before);
  assert.ok(!fresh.some((e) => e.type === 'integrity.baseline'), 'the baseline is kept, not rebuilt');
  const offline = find(fresh, 'integrity.updated', `${tree}/live/app.conf`);
  assert.equal(offline && detail(offline, 'source'), 'scan');
  assert.ok(find(fresh, 'integrity.created', `${tree}/quiet/while-stopped`));
  // ... and the directory that got the new entry (its mtime); nothing else.
  assert.ok(find(fresh, 'integrity.updated', `${tree}/quiet`));
  assert.equal(fresh.length, 3, JSON.stringify(fresh.map((e) => e.message)));
  await m.stop();
  assert.equal(m.status().state, 'off');
});

test('a rule added later starts monitoring without reporting what already exists', async () => {
  const events: ModuleEventInput[] = [];
  const m = new IntegrityModule();
  const extra = `${RULES}  - id: extra\n    paths: [${tree}/extra]\n`;
  mkdirSync(join(tree, 'extra'), { recursive: true });
  writeFileSync(join(tree, 'extra', 'present'), 'p\n');
  const cfg: ModuleConfig = { ...config(), settings: { ...config().settings, rules: [{ name: 'test', yaml: extra }] } };
  assert.deepEqual(m.configure(cfg), []);
  await m.start(context(cfg, events));
  await m.settled();
  assert.deepEqual(events, [], JSON.stringify(events.map((e) => e.message)));
  assert.ok((m.status().details?.suppressed as number) >= 2);
  await m.stop();
});

const xattrReader = XattrReader.open();
xattrReader?.close();

test('an xattr set on a watched file is a real-time change', {
  skip: xattrReader ? false : 'xattrs cannot be read on this host',
}, async () => {
  const t = join(dir, 'xattr-tree');
  mkdirSync(t);
  writeFileSync(join(t, 'f'), 'x\n');
  const cfg: ModuleConfig = {
    enabled: true,
    mode: 'detect',
    settings: {
      rules: [{ name: 'x', yaml: `version: 1\nrules:\n  - id: x\n    paths: [${t}]\n    realtime: true\n` }],
      realtime: { debounceMs: 50 },
    },
  };
  const events: ModuleEventInput[] = [];
  const m = new IntegrityModule();
  assert.deepEqual(m.configure(cfg), []);
  mkdirSync(join(dir, 'xattr-data'));
  await m.start({ ...context(cfg, events), dataDir: join(dir, 'xattr-data') });
  await m.settled();
  // lsetxattr(2) through perl, as there is no setfattr on this image.
  execFileSync('perl', [
    '-e',
    'my ($n, $v) = ("user.tag", "evil"); syscall($ARGV[0], $ARGV[1], $n, $v, 4, 0) == 0 or die "$!\\n"',
    process.arch === 'arm64' ? '6' : '189',
    join(t, 'f'),
  ]);
  const ev = await waitFor('xattr change', () => find(events, 'integrity.updated', `${t}/f`));
  const xa = (detail(ev, 'attributes') as { name: string; before: unknown; after: unknown }[]).find((a) => a.name === 'xattrs');
  assert.deepEqual(xa && [xa.before, xa.after], [[], ['user.tag=evil']]);
  await m.stop();
});
