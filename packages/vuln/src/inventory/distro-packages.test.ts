import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseApkInstalled } from './apk-installed.ts';
import { parseOsRelease } from './os-release.ts';
import { parseRpmQueryOutput } from './rpm-packages.ts';

test('rpm -qa queryformat output: epochs, source rpm, gpg-pubkey dropped, bad lines reported', () => {
  const text = [
    'openssl-libs\t1\t3.0.7\t27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm',
    'bash\t(none)\t5.1.8\t9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm',
    'gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)',
    'garbage line',
  ].join('\n');
  const r = parseRpmQueryOutput(text, 'rpm -qa', { ecosystem: 'Rocky Linux:9', purlNamespace: 'rocky' });
  assert.deepEqual(
    r.items.map((i) => [i.name, i.version, i.sourceName]),
    [
      ['openssl-libs', '1:3.0.7-27.el9', 'openssl'],
      ['bash', '5.1.8-9.el9', undefined],
    ],
  );
  assert.equal(r.items[0]!.purl, 'pkg:rpm/rocky/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1');
  assert.equal(r.diagnostics[0]!.line, 4);
});

test('apk installed: origin becomes the source package', () => {
  const r = parseApkInstalled('P:musl-utils\nV:1.2.4-r2\nA:x86_64\no:musl\nF:usr/bin\n\nP:zlib\nV:1.3-r2\no:zlib\n', 'installed', { ecosystem: 'Alpine:v3.18' });
  assert.deepEqual(
    r.items.map((i) => [i.name, i.version, i.sourceName]),
    [
      ['musl-utils', '1.2.4-r2', 'musl'],
      ['zlib', '1.3-r2', undefined],
    ],
  );
  assert.equal(r.items[0]!.purl, 'pkg:apk/alpine/musl-utils@1.2.4-r2?arch=x86_64');
});

test('os-release maps to OSV ecosystem spellings', () => {
  const eco = (text: string) => parseOsRelease(text).ecosystem;
  assert.equal(eco('ID=debian\nVERSION_ID="12"\nVERSION="12 (bookworm)"'), 'Debian:12');
  assert.equal(eco('ID=ubuntu\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"'), 'Ubuntu:22.04:LTS');
  assert.equal(eco('ID=ubuntu\nVERSION_ID="23.10"\nVERSION="23.10 (Mantic Minotaur)"'), 'Ubuntu:23.10');
  assert.equal(eco('ID=alpine\nVERSION_ID=3.18.4'), 'Alpine:v3.18');
  assert.equal(eco('ID="rocky"\nVERSION_ID="9.3"'), 'Rocky Linux:9');
  assert.equal(eco('ID="rhel"\nVERSION_ID="8.6"'), 'Red Hat:8');
  assert.equal(eco('ID=plan9'), undefined);
  const os = parseOsRelease('# comment\nID=debian\nID_LIKE="a b"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n');
  assert.deepEqual(os.idLike, ['a', 'b']);
  assert.equal(os.versionCodename, 'bookworm');
  assert.equal(os.prettyName, 'Debian GNU/Linux 12 (bookworm)');
});
