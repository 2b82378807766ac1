import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import Database from 'better-sqlite3';
import type { ModuleEventInput } from '../../agent-module.ts';
import { IntegrityModule } from './integrity-module.ts';
import { waitFor as pollFor, type RecordedEvent, recordingContext } from './testing/recording-context.ts';

/**
 * reportChanges on a real temp tree: text diffs with redaction in real-time and scan events, the
 * copies kept without secrets, binary and large files skipped, and the manager commands
 * (scan, rebuild-baseline, accept) with the baseline summary of the status.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-diff-'));
const tree = join(dir, 'tree');
const dataDir = join(dir, 'data');
mkdirSync(join(tree, 'ssh'), { recursive: true });
mkdirSync(join(tree, 'quiet'), { recursive: true });
mkdirSync(dataDir);
const SSHD = 'Port 22\nPermitRootLogin no\nPasswordAuthentication no\n';
writeFileSync(join(tree, 'ssh', 'sshd_config'), SSHD);
writeFileSync(join(tree, 'ssh', 'app.env'), 'DB_HOST=db\nDB_PASSWORD=hunter2-original\n');
writeFileSync(join(tree, 'ssh', 'ssh_host_key'), 'not opted in\n');
writeFileSync(join(tree, 'ssh', 'blob.bin'), Buffer.from([1, 2, 0, 3]));
writeFileSync(join(tree, 'ssh', 'big.conf'), 'x\n'.repeat(600));
writeFileSync(join(tree, 'quiet', 'hosts'), '127.0.0.1 localhost\n');

after(() => rmSync(dir, { recursive: true, force: true }));

const RULES = `version: 1
rules:
  - id: ssh
    paths: [${tree}/ssh]
    severity: high
    realtime: true
    reportChanges: [sshd_config, '*.env', '*.bin', big.conf]
    diffMaxBytes: 1000
  - id: quiet
    paths: [${tree}/quiet]
    severity: low
    reportChanges: true
`;

const config: ModuleConfig = {
  enabled: true,
  mode: 'detect',
  settings: {
    rules: [{ name: 'test', yaml: RULES }],
    realtime: { debounceMs: 100 },
    schedule: { intervalSeconds: 3600 },
    scanOnStart: false,
  },
};

const events: RecordedEvent[] = [];
const ctx = recordingContext(config, events, dataDir);
const waitFor = <T>(what: string, check: () => T | undefined, ms = 10_000) => pollFor(what, check, ms);

type Diff = { status: string; reason?: string; diff?: string; added?: number; removed?: number; redacted?: number; sha256?: string };
const details = (e: ModuleEventInput) => e.details as Record<string, unknown>;
const diffOf = (e: ModuleEventInput) => details(e).contentDiff as Diff | undefined;
const event = (type: string, key: string) => events.find((e) => e.type === type && details(e).key === key);

const m = new IntegrityModule();

test('reportChanges: redacted diffs in events, no secret in the copies, binary and large files skipped', async () => {
  await m.start(ctx);
  await m.settled();
  assert.deepEqual(
    events.map((e) => e.type),
    ['integrity.baseline'],
  );
  const copies = new Database(join(dataDir, 'content-copies.sqlite'), { readonly: true });
  const paths = (copies.prepare('SELECT path FROM copies ORDER BY path').pluck().all() as string[]).map((p) => p.slice(tree.length));
  copies.close();
  assert.deepEqual(paths, ['/quiet/hosts', '/ssh/app.env', '/ssh/sshd_config'], 'copies of opted-in small text files only');

  // A real-time change: the diff is in the event, the password never is.
  writeFileSync(join(tree, 'ssh', 'sshd_config'), SSHD.replace('PermitRootLogin no', 'PermitRootLogin yes'));
  writeFileSync(join(tree, 'ssh', 'app.env'), 'DB_HOST=db\nDB_PASSWORD=hunter2-changed\n');
  const sshd = await waitFor('sshd_config event', () => event('integrity.updated', `${tree}/ssh/sshd_config`));
  const env = await waitFor('app.env event', () => event('integrity.updated', `${tree}/ssh/app.env`));
  assert.equal(details(sshd).source, 'realtime');
  assert.match(sshd.message, /\[text diff \+1 -1\]$/);
  const d = diffOf(sshd)!;
  assert.equal(d.status, 'diff');
  assert.equal(
    d.diff,
    `--- ${tree}/ssh/sshd_config\n+++ ${tree}/ssh/sshd_config\n@@ -1,3 +1,3 @@\n Port 22\n-PermitRootLogin no\n+PermitRootLogin yes\n PasswordAuthentication no\n`,
  );
  assert.equal(d.sha256, (details(sshd).attributes as { name: string; after: unknown }[]).find((a) => a.name === 'sha256')?.after);
  const e = diffOf(env)!;
  assert.equal(e.status, 'diff');
  assert.ok(e.diff!.includes('-DB_PASSWORD=[redacted#1]\n+DB_PASSWORD=[redacted#2]\n'), e.diff);
  assert.equal(e.redacted, 2);
  for (const ev of events) assert.ok(!JSON.stringify(ev).includes('hunter2'), 'no event carries the password');
  // The copies on disk hold no secret either (fingerprints only).
  for (const f of readdirSync(dataDir)) {
    if (f.endsWith('.key')) continue;
    assert.ok(!readFileSync(join(dataDir, f)).includes('hunter2'), `${f} holds the password`);
  }

  // Binary and too large: the event says why there is no diff; a file not opted in has no contentDiff.
  writeFileSync(join(tree, 'ssh', 'blob.bin'), Buffer.from([1, 2, 0, 4]));
  writeFileSync(join(tree, 'ssh', 'big.conf'), 'y\n'.repeat(600));
  writeFileSync(join(tree, 'ssh', 'ssh_host_key'), 'changed\n');
  assert.deepEqual(diffOf(await waitFor('blob event', () => event('integrity.updated', `${tree}/ssh/blob.bin`))), {
    status: 'skipped',
    reason: 'binary',
  });
  assert.deepEqual(diffOf(await waitFor('big event', () => event('integrity.updated', `${tree}/ssh/big.conf`))), {
    status: 'skipped',
    reason: 'too-large',
  });
  assert.equal(diffOf(await waitFor('host key event', () => event('integrity.updated', `${tree}/ssh/ssh_host_key`))), undefined);

  // Created and deleted files carry the whole content as added or removed lines.
  writeFileSync(join(tree, 'ssh', 'new.env'), 'TOKEN=abc\nMODE=x\n');
  const created = diffOf(await waitFor('created event', () => event('integrity.created', `${tree}/ssh/new.env`)))!;
  assert.equal(created.status, 'diff');
  assert.match(created.diff!, /^--- \/dev\/null\n/);
  assert.ok(created.diff!.includes('+TOKEN=[redacted#1]\n+MODE=x\n'));
  unlinkSync(join(tree, 'ssh', 'new.env'));
  const deleted = diffOf(await waitFor('deleted event', () => event('integrity.deleted', `${tree}/ssh/new.env`)))!;
  assert.equal(deleted.status, 'diff');
  assert.ok(deleted.diff!.includes('-TOKEN=[redacted#1]\n-MODE=x\n'));
});

test('commands: scan reports a change once, rebuild-baseline absorbs changes silently, accept folds and clears pending', async () => {
  const status = () => (m.status().details as { baseline: Record<string, any> }).baseline;
  const before = status();
  assert.ok(before.pendingChanges >= 7, `pending ${before.pendingChanges}`);
  assert.equal(before.counts.byRule.ssh, 6, 'the directory and its five files');
  assert.equal(before.counts.byKind.file, before.counts.entities);
  assert.equal(before.buildReason, 'first start');
  assert.ok(before.lastChangeAt >= before.builtAt);

  // A non-real-time file found by the scan command, with its diff.
  writeFileSync(join(tree, 'quiet', 'hosts'), '127.0.0.1 localhost\n10.0.0.66 updates.example.com\n');
  const scan = await m.commands['integrity.scan']!({}, new AbortController().signal);
  assert.equal(scan!.changes, 1);
  const hosts = event('integrity.updated', `${tree}/quiet/hosts`)!;
  assert.equal(details(hosts).source, 'scan');
  assert.ok(diffOf(hosts)!.diff!.includes('+10.0.0.66 updates.example.com\n'));
  assert.equal((await m.commands['integrity.scan']!({}, new AbortController().signal))!.changes, 0, 'reported once');

  // Accept by event id: the pending changes of that entity go; a newer change is folded in without an event.
  const pendingBefore = status().pendingChanges;
  writeFileSync(join(tree, 'quiet', 'hosts'), '127.0.0.1 localhost\n');
  const n = events.length;
  const acc = await m.commands['integrity.accept']!({ eventIds: [hosts.id, 'no-such-event'] }, new AbortController().signal);
  assert.equal(acc!.accepted, 1);
  assert.equal(acc!.pendingRemoved, 1);
  assert.deepEqual(acc!.unknownEventIds, ['no-such-event']);
  assert.deepEqual(
    (acc!.folded as { key: string }[]).map((f) => f.key),
    [`${tree}/quiet/hosts`],
  );
  assert.equal(status().pendingChanges, pendingBefore - 1);
  assert.deepEqual(
    events.slice(n).map((e) => e.type),
    ['integrity.accepted'],
  );
  assert.equal((await m.commands['integrity.scan']!({}, new AbortController().signal))!.changes, 0, 'the accepted state is the baseline');
  await assert.rejects(m.commands['integrity.accept']!({ eventIds: ['no-such-event'] }, new AbortController().signal), /no pending change/);
  await assert.rejects(m.commands['integrity.accept']!({ paths: ['relative/x'] }, new AbortController().signal), /absolute path/);

  // Rebuild: a change made now is absorbed without an event, and the next scan finds nothing.
  writeFileSync(join(tree, 'quiet', 'hosts'), '127.0.0.1 localhost\n10.9.9.9 other\n');
  const m2 = events.length;
  const rebuilt = await m.commands['integrity.rebuild-baseline']!({}, new AbortController().signal);
  assert.ok((rebuilt!.pendingCleared as number) > 0);
  assert.deepEqual(
    events.slice(m2).map((e) => e.type),
    ['integrity.baseline'],
  );
  const after = status();
  assert.equal(after.pendingChanges, 0);
  assert.equal(after.buildReason, 'command');
  assert.ok(after.builtAt > before.builtAt);
  assert.equal((await m.commands['integrity.scan']!({}, new AbortController().signal))!.changes, 0);
  assert.ok(status().lastFullScan.filesPerSecond > 0);
  // The copy was refreshed by the rebuild: the next change diffs against the rebuilt content.
  writeFileSync(join(tree, 'quiet', 'hosts'), '127.0.0.1 localhost\n');
  await m.commands['integrity.scan']!({}, new AbortController().signal);
  const last = events.filter((e) => e.type === 'integrity.updated' && details(e).key === `${tree}/quiet/hosts`).at(-1)!;
  assert.ok(diffOf(last)!.diff!.includes('-10.9.9.9 other\n'), diffOf(last)!.diff);
});

test('the summary survives a restart, and a stopped module answers commands with a clear error', async () => {
  const builtAt = (m.status().details as { baseline: { builtAt: string } }).baseline.builtAt;
  await m.stop();
  await assert.rejects(m.rebuildBaseline(), /not available/);
  const again = new IntegrityModule();
  await again.start(ctx);
  await again.settled();
  const b = (again.status().details as { baseline: Record<string, any> }).baseline;
  assert.equal(b.builtAt, builtAt);
  assert.equal(b.pendingChanges, 1);
  assert.ok(b.lastFullScan.at);
  assert.ok(existsSync(join(dataDir, 'redaction.key')));
  await again.stop();
});
