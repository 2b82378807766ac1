import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDpkgStatus } from './dpkg-status.ts';

const STATUS = `Package: libssl1.1
Status: install ok installed
Architecture: amd64
Source: openssl (1.1.1n-0+deb11u3)
Version: 1.1.1n-0+deb11u5
Description: Secure Sockets Layer toolkit
 Version: 9.9 is description text
 .
 more

Package: oldpkg
Status: deinstall ok config-files
Version: 1.0-1

Package: bash
Status: install ok installed
Version: 5.1-2+deb11u1
Architecture: amd64

Status: install ok installed
Version: 1.0
`;

test('installed packages only, with source package and purl', () => {
  const r = parseDpkgStatus(STATUS, '/var/lib/dpkg/status', { ecosystem: 'Debian:11', distro: 'debian-11' });
  assert.deepEqual(
    r.items.map((i) => [i.name, i.version, i.sourceName, i.sourceVersion]),
    [
      ['libssl1.1', '1.1.1n-0+deb11u5', 'openssl', '1.1.1n-0+deb11u3'],
      ['bash', '5.1-2+deb11u1', undefined, undefined],
    ],
  );
  assert.equal(r.items[0]!.purl, 'pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u5?arch=amd64&distro=debian-11');
  assert.equal(r.items[0]!.ecosystem, 'Debian:11');
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0]!.code, 'VULN_INVENTORY_DPKG_STANZA');
  assert.equal(r.diagnostics[0]!.line, 20);
});

test('Source without a version inherits the binary version', () => {
  const r = parseDpkgStatus('Package: libxml2-utils\nStatus: install ok installed\nSource: libxml2\nVersion: 2.9.10\n', 's', { ecosystem: 'Debian:11' });
  assert.equal(r.items[0]!.sourceVersion, '2.9.10');
});

test('packages count while their files are on disk, not after removal', () => {
  const stanza = (name: string, status: string) => `Package: ${name}\nStatus: ${status}\nVersion: 1.0\n`;
  const text = [
    stanza('a', 'install ok installed'),
    stanza('b', 'install ok half-configured'),
    stanza('c', 'install ok triggers-pending'),
    stanza('d', 'install ok unpacked'),
    stanza('e', 'deinstall ok config-files'),
    stanza('f', 'purge ok not-installed'),
  ].join('\n');
  assert.deepEqual(parseDpkgStatus(text, 's', { ecosystem: 'Debian:12' }).items.map((i) => i.name), ['a', 'b', 'c', 'd']);
});
