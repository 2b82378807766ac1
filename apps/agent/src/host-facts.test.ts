import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostFactsSchema } from '@palisade/protocol';
import { Value } from 'typebox/value';
import { collectHostFacts, parseOsRelease, platformString } from './host-facts.ts';

test('os-release is read like a shell would: quotes, escapes, comments', () => {
  const text = '# comment\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME=\'Debian 12\'\nX="a \\"b\\""\nbroken line\n';
  assert.deepEqual(parseOsRelease(text), {
    NAME: 'Debian GNU/Linux',
    ID: 'debian',
    VERSION_ID: '12',
    PRETTY_NAME: 'Debian 12',
    X: 'a "b"',
  });
});

test('platform is linux/<id> <version>, with fallbacks', () => {
  assert.equal(platformString('ID=ubuntu\nVERSION_ID="24.04"\n', 'linux'), 'linux/ubuntu 24.04');
  assert.equal(platformString('ID=arch\n', 'linux'), 'linux/arch');
  assert.equal(platformString(undefined, 'linux'), 'linux/unknown');
  assert.match(platformString(undefined, 'darwin'), /^darwin\//);
});

test('the facts of this host match the protocol', () => {
  const facts = collectHostFacts();
  assert.ok(Value.Check(HostFactsSchema, facts), JSON.stringify(facts));
  assert.ok(!facts.ips.includes('127.0.0.1') && !facts.ips.includes('::1'));
});
