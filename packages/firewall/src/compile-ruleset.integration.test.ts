import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Every golden ruleset must be one the kernel accepts: loaded for real (not just `nft -c`) inside
// a namespace this test creates, twice, to prove the replace-in-one-transaction preamble works
// both when the tables do not exist yet and when they do.
const fixtures = fileURLToPath(new URL('../fixtures/compile/', import.meta.url));
const ns = `pal-golden-${process.pid}`;

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const [cmd, args] of [
    ['ip', ['netns', 'list']],
    ['nft', ['--version']],
  ] as const) {
    if (spawnSync(cmd, [...args], { stdio: 'ignore' }).status !== 0) return `\`${cmd}\` does not run here`;
  }
  return undefined;
}
const skip = unavailable();
if (skip) console.log(`# golden rulesets not loaded into nft: ${skip}`);

before(() => {
  if (!skip) execFileSync('ip', ['netns', 'add', ns]);
});
after(() => {
  if (!skip) spawnSync('ip', ['netns', 'del', ns]);
});

for (const name of readdirSync(fixtures).sort()) {
  test(`nft loads golden ${name}`, { skip }, () => {
    const file = join(fixtures, name, 'expected.nft');
    for (let i = 0; i < 2; i++) {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
  });
}
