import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Event } from '@palisade/api-client';
import { JournaldLab, journaldLabUnavailable } from '../apps/agent/src/modules/log-inspection/journald-lab.ts';
import { type AgentProcess, type ManagerProcess, waitFor } from './support/real-processes.ts';
import { type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';

/**
 * Log inspection through the whole platform: a real manager's policy turns the module on with a
 * file source; a real agent process tails the file; a burst of failed SSH logins from one address
 * becomes the brute-force correlation event at the manager. Then the file is rotated (rename +
 * new file, with a late write to the renamed one) and truncated in place: every line written
 * around those rotations arrives once. Where a private journald can be started (root), the agent
 * also follows its journal and journal entries reach the manager the same way.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-loginsp-e2e-'));
const logDir = join(dir, 'logs');
const authLog = join(logDir, 'auth.log');
let manager: ManagerProcess;
let agent: AgentProcess;
const journaldSkip = journaldLabUnavailable();
const lab = new JournaldLab(`palisadee2e${process.pid}`);

const failed = (i: number, from: string): string =>
  `Nov 27 02:00:${String(i % 60).padStart(2, '0')} web1 sshd[${4000 + i}]: Failed password for root from ${from} port ${40000 + i} ssh2\n`;

let setup: ManagerWithAgent | undefined;
before(async () => {
  mkdirSync(logDir, { recursive: true });
  writeFileSync(authLog, '');
  if (!journaldSkip) await lab.start();
  setup = await startManagerWithAgent({
    dir,
    policy: {
      name: 'Log inspection E2E',
      settings: {
        heartbeatSeconds: 2,
        modules: {
          'log-inspection': {
            enabled: true,
            mode: 'detect',
            settings: {
              // A glob, as an operator would write it; the agent uses the rules it ships with.
              files: [{ path: join(logDir, '*.log') }],
              startAt: 'beginning',
              pollIntervalMs: 100,
              rotationGraceSeconds: 3,
              ...(journaldSkip ? {} : { journald: { namespace: lab.namespace } }),
            },
          },
        },
      },
    },
  });
  ({ manager, agent } = setup);
});

after(async () => {
  await setup?.cleanup();
  if (!journaldSkip) await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function logEvents(): Promise<Event[]> {
  const out: Event[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await manager.client.listEvents({
      computerId: agent.agentId,
      module: 'log-inspection',
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.events);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return out;
}

const srcip = (e: Event): string | undefined => (e.details?.fields as Record<string, string> | undefined)?.srcip;

test('8 failed SSH logins from one address within 2 minutes: the brute-force event reaches the manager', async () => {
  for (let i = 0; i < 8; i++) appendFileSync(authLog, failed(i, '203.0.113.5'));
  const bf = await waitFor(
    'brute-force event at the manager',
    async () => (await logEvents()).find((e) => e.ruleId === '200110'),
    60_000,
    250,
  );
  assert.equal(bf.type, 'log-inspection.alert');
  assert.equal(bf.severity, 'high');
  assert.equal(bf.details?.level, 10);
  assert.equal(srcip(bf), '203.0.113.5');
  assert.equal(bf.details?.location, authLog);
  assert.equal(bf.details?.decoder, 'sshd');
  assert.ok((bf.details?.groups as string[]).includes('brute_force'));
  assert.equal(bf.details?.fullLog, failed(7, '203.0.113.5').trimEnd());
  const single = (await logEvents()).filter((e) => e.ruleId === '200101' && srcip(e) === '203.0.113.5');
  assert.equal(single.length, 7, 'the first seven failures are single alerts; the eighth is the brute force');
});

test('rotation by rename + new file and truncation in place lose no line and repeat none', async () => {
  const rotated = '198.51.100.7';
  // Before the rotation, after the rename (the daemon still writes to the old file), in the new file.
  for (let i = 0; i < 3; i++) appendFileSync(authLog, failed(i, rotated));
  renameSync(authLog, `${authLog}.1`);
  for (let i = 3; i < 5; i++) appendFileSync(`${authLog}.1`, failed(i, rotated));
  writeFileSync(authLog, '');
  // Seven lines: fewer than the brute-force threshold, so each is exactly one alert.
  for (let i = 5; i < 7; i++) appendFileSync(authLog, failed(i, rotated));
  await waitFor(
    'the lines around the rotation',
    async () => (await logEvents()).filter((e) => srcip(e) === rotated).length >= 7,
    60_000,
    250,
  );

  // copytruncate: the file is emptied in place and written again.
  const truncated = '192.0.2.33';
  await new Promise((r) => setTimeout(r, 500));
  truncateSync(authLog, 0);
  for (let i = 0; i < 4; i++) appendFileSync(authLog, failed(i, truncated));
  await waitFor(
    'the lines after the truncation',
    async () => (await logEvents()).filter((e) => srcip(e) === truncated).length >= 4,
    60_000,
    250,
  );
  // A moment for duplicates to show up, if any were sent.
  await new Promise((r) => setTimeout(r, 1500));
  const all = await logEvents();
  const ports = (ip: string): string[] =>
    all
      .filter((e) => srcip(e) === ip)
      .map((e) => (e.details?.fields as Record<string, string>).srcport!)
      .sort();
  assert.deepEqual(
    ports(rotated),
    Array.from({ length: 7 }, (_, i) => String(40000 + i)),
  );
  assert.deepEqual(
    ports(truncated),
    Array.from({ length: 4 }, (_, i) => String(40000 + i)),
  );
});

test('journal entries reach the manager too', { skip: journaldSkip }, async () => {
  // The agent's first start reads only new journal entries: probe until it follows.
  await waitFor(
    'journald following',
    async () => {
      await lab.write('sshd', ['Did not receive identification string from 192.0.2.44 port 60000']);
      return (await logEvents()).some((e) => e.ruleId === '200106' && e.details?.source === 'journald');
    },
    60_000,
    500,
  );
  const ip = '192.0.2.77';
  await lab.write(
    'sshd',
    [0, 1, 2].map((i) =>
      failed(i, ip)
        .trimEnd()
        .replace(/^.*?sshd\[\d+\]: /, ''),
    ),
  );
  const got = await waitFor(
    'journal alerts at the manager',
    async () => {
      const evs = (await logEvents()).filter((e) => srcip(e) === ip);
      return evs.length >= 3 && evs;
    },
    30_000,
    250,
  );
  assert.equal(got.length, 3);
  for (const e of got) {
    assert.equal(e.ruleId, '200101');
    assert.equal(e.details?.source, 'journald');
    assert.equal(e.details?.location, 'journald');
    assert.equal(e.details?.programName, 'sshd');
  }
});
