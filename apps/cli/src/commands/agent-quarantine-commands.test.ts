import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { QuarantineVault } from '@palisade/agent';
import { registerAgentCommands } from './agent-commands.ts';
import { CliError } from './output.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-cli-quarantine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const program = new Command('palisade').exitOverride();
  registerAgentCommands(program);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['agent', ...args], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('with no agent running, quarantine list/restore/delete work on the vault in the data dir', async () => {
  const dataDir = join(dir, 'agent');
  const moduleDir = join(dataDir, 'modules', 'anti-malware');
  mkdirSync(moduleDir, { recursive: true });
  const vault = new QuarantineVault(moduleDir);
  const victim = join(dir, 'victim.php');
  writeFileSync(victim, '<?php /* not really */ ?>', { mode: 0o604 });
  const f = { path: victim, data: readFileSync(victim), stat: statSync(victim) };
  const kept = await vault.quarantine(f, [{ name: 'Test.Sig', source: 'yara' }], 'on-demand');
  writeFileSync(join(dir, 'other'), 'x');
  const other = await vault.quarantine(
    { path: join(dir, 'other'), data: Buffer.from('x'), stat: statSync(join(dir, 'other')) },
    [{ name: 'Other', source: 'clamav' }],
    'on-demand',
  );
  assert.equal(existsSync(victim), false);

  const listed = JSON.parse(await run(['quarantine', 'list', '--data-dir', dataDir, '--json'])) as { entries: { id: string }[] };
  assert.deepEqual(listed.entries.map((e) => e.id).sort(), [kept.id, other.id].sort());
  assert.match(await run(['quarantine', 'list', '--data-dir', dataDir]), new RegExp(`^${kept.id} .* ${victim} .*Test\\.Sig`, 'm'));

  const restored = JSON.parse(await run(['quarantine', 'restore', kept.id, '--data-dir', dataDir, '--json'])) as { via: string };
  assert.equal(restored.via, 'vault');
  assert.equal(readFileSync(victim, 'utf8'), '<?php /* not really */ ?>');
  assert.equal(statSync(victim).mode & 0o777, 0o604);

  assert.match(await run(['quarantine', 'delete', other.id, '--data-dir', dataDir]), /^deleted [0-9a-f]{16} /);
  assert.deepEqual(await vault.list(), []);
  await assert.rejects(
    run(['quarantine', 'restore', other.id, '--data-dir', dataDir]),
    (e) => e instanceof CliError && e.code === 'AM_QUARANTINE_NOT_FOUND',
  );
});
