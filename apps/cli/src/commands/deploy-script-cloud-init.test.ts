import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { CLOUD_INIT_SCRIPT, renderCloudInit } from './deploy-script-cloud-init.ts';

const script = '#!/bin/sh\n# Palisade agent deployment script\necho \'it ran\' "$PALISADE_RESULT_FILE"\nexit 0\n';

test('the cloud-config carries the script byte for byte and runs it once, deleting it after', () => {
  const text = renderCloudInit(script, 'test');
  assert.ok(text.startsWith('#cloud-config\n'), 'cloud-init needs the #cloud-config first line');
  const doc = parse(text) as {
    write_files: { path: string; permissions: string; encoding: string; content: string }[];
    runcmd: string[][];
  };
  assert.equal(doc.write_files[0]!.path, CLOUD_INIT_SCRIPT);
  assert.equal(doc.write_files[0]!.permissions, '0700');
  assert.equal(Buffer.from(doc.write_files[0]!.content, 'base64').toString('utf8'), script);
  const [sh, flag, command] = doc.runcmd[0]!;
  assert.deepEqual([sh, flag], ['sh', '-c']);
  // run the command as cloud-init would, with its paths moved into a temp dir
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cloud-init-'));
  try {
    const moved = command!.replaceAll('/run/', `${dir}/`).replaceAll('/var/log/', `${dir}/`).replace('>/dev/console', '>/dev/null');
    writeFileSync(join(dir, 'palisade-deploy.sh'), script, { mode: 0o700 });
    execFileSync('sh', ['-c', moved]);
    assert.equal(readFileSync(join(dir, 'palisade-deploy.log'), 'utf8'), `it ran ${dir}/palisade-deploy.result\n`);
    assert.throws(() => readFileSync(join(dir, 'palisade-deploy.sh')), /ENOENT/, 'the script (it holds the token) is deleted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example user data in deploy/cloud-init parses and has the same shape', () => {
  const text = readFileSync(new URL('../../../../deploy/cloud-init/user-data.example.yaml', import.meta.url), 'utf8');
  assert.ok(text.startsWith('#cloud-config\n'));
  const doc = parse(text) as { write_files: { path: string }[]; runcmd: string[][] };
  const generated = parse(renderCloudInit(script, 'x')) as typeof doc;
  assert.equal(doc.write_files[0]!.path, generated.write_files[0]!.path);
  assert.deepEqual(doc.runcmd, generated.runcmd);
});
