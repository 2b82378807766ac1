import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../agent-module.ts';
import { JournaldLab, journaldLabUnavailable } from './journald-lab.ts';
import { LogInspectionModule } from './log-inspection-module.ts';

/**
 * The journald source against a real journald: a private journal namespace started and removed
 * by the test (JournaldLab), entries written through journald's stdout stream socket as a
 * service's output would be. Needs root and the systemd-journald binary; skipped otherwise.
 */
const skip = journaldLabUnavailable();
const lab = new JournaldLab(`palisade${process.pid}`);
const ns = lab.namespace;
const dir = mkdtempSync(join(tmpdir(), 'palisade-journald-'));

async function until<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
  every = 50,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const journal = (identifier: string, lines: string[]): Promise<void> => lab.write(identifier, lines);

before(async () => {
  if (!skip) await lab.start();
});

after(async () => {
  if (!skip) await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

function context(config: ModuleConfig, events: ModuleEventInput[]): ModuleContext {
  return {
    emit: (e) => {
      events.push(e);
      return { ...e, id: 'x', time: new Date(0).toISOString(), module: 'log-inspection' } as never;
    },
    logger: silentLogger(),
    dataDir: dir,
    config,
  };
}

const failed = (i: number, from: string): string => `Failed password for root from ${from} port ${40000 + i} ssh2`;
const srcip = (e: ModuleEventInput): string | undefined => (e.details?.fields as Record<string, string> | undefined)?.srcip;

test('journald: the brute force from journal entries, and a restart resumes after the last handled entry', { skip }, async () => {
  const config: ModuleConfig = { enabled: true, mode: 'detect', settings: { journald: { namespace: ns }, pollIntervalMs: 50 } };
  const events: ModuleEventInput[] = [];
  const m = new LogInspectionModule();
  await m.start(context(config, events));
  assert.equal((m.status().details as { journald: string }).journald, 'following');
  // The first start reads only new entries (-n 0): probe until journalctl follows, with a line
  // that alerts (200106, a connection without SSH handshake).
  await until(
    'journalctl following',
    async () => {
      await journal('sshd', ['Did not receive identification string from 192.0.2.44 port 60000']);
      return events.some((e) => e.ruleId === '200106');
    },
    20_000,
    300,
  );
  await journal(
    'sshd',
    Array.from({ length: 8 }, (_, i) => failed(i, '203.0.113.5')),
  );
  const bf = await until('brute force from the journal', () => events.find((e) => e.ruleId === '200110'));
  assert.equal(bf.details?.source, 'journald');
  assert.equal(bf.details?.location, 'journald');
  assert.equal(bf.details?.programName, 'sshd');
  assert.equal(srcip(bf), '203.0.113.5');
  assert.match(
    String(bf.details?.fullLog),
    /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ sshd\[\d+\]: Failed password for root from 203\.0\.113\.5 port 40007 ssh2$/,
  );
  await m.stop();
  const cursor = readFileSync(join(dir, `journal-${ns}.cursor`), 'utf8');
  assert.match(cursor, /^s=/);

  // Written while the module is stopped: read on the next start, and nothing before them again.
  await journal('sshd', [failed(20, '198.51.100.20'), failed(21, '198.51.100.21')]);
  const events2: ModuleEventInput[] = [];
  const m2 = new LogInspectionModule();
  await m2.start(context(config, events2));
  await until('entries written while stopped', () => events2.some((e) => srcip(e) === '198.51.100.21'));
  await new Promise((r) => setTimeout(r, 500));
  await m2.stop();
  assert.deepEqual(
    events2.map((e) => srcip(e)),
    ['198.51.100.20', '198.51.100.21'],
  );
});
