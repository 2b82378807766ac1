import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCargoLock, parseComposerLock, parseGemfileLock } from './lockfile-packages.ts';

const list = (r: { items: { ecosystem: string; name: string; version: string }[] }) => r.items.map((i) => `${i.ecosystem} ${i.name}@${i.version}`);

test('composer.lock: packages and packages-dev, v prefix dropped, dev branches skipped', () => {
  const lock = {
    packages: [
      { name: 'league/flysystem', version: 'v1.1.3' },
      { name: 'drupal/core', version: '10.4.8' },
      { name: 'acme/wip', version: 'dev-main' },
    ],
    'packages-dev': [{ name: 'phpunit/phpunit', version: '9.6.0' }],
  };
  const r = parseComposerLock(JSON.stringify(lock), '/var/www/composer.lock');
  assert.deepEqual(list(r), ['Packagist league/flysystem@1.1.3', 'Packagist drupal/core@10.4.8', 'Packagist phpunit/phpunit@9.6.0']);
  assert.equal(r.items[0]!.purl, 'pkg:composer/league/flysystem@1.1.3');
  assert.equal(parseComposerLock('{', 'x').diagnostics[0]!.code, 'VULN_INVENTORY_JSON');
});

test('Gemfile.lock: specs entries only, platform suffix removed', () => {
  const text = `GIT
  remote: https://github.com/x/y.git
  revision: abc
  specs:
    y (0.1.0)

GEM
  remote: https://rubygems.org/
  specs:
    nokogiri (1.15.4-x86_64-linux)
      racc (~> 1.4)
    rack (2.2.8)
    racc (1.7.1)

PLATFORMS
  x86_64-linux

DEPENDENCIES
  rack (~> 2.2)
`;
  assert.deepEqual(list(parseGemfileLock(text, 'Gemfile.lock')), ['RubyGems y@0.1.0', 'RubyGems nokogiri@1.15.4', 'RubyGems rack@2.2.8', 'RubyGems racc@1.7.1']);
});

test('Cargo.lock: registry packages only', () => {
  const text = `version = 3

[[package]]
name = "myapp"
version = "0.1.0"

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "abc"

[[package]]
name = "forked"
version = "0.2.0"
source = "git+https://github.com/x/forked#abc"
`;
  assert.deepEqual(list(parseCargoLock(text, 'Cargo.lock')), ['crates.io smallvec@1.6.0']);
});
