import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { javaFixtureFiles, mavenJar, VULNERABLE_JAVA } from '../testing/java-fixtures.ts';
import { repoRoot } from '../testing/shared-dir.ts';
import { mavenCoordinatesFromPath, parseJavaArchive } from './java-archive.ts';

test('war with nested jars: each artifact with the nested location', () => {
  const war = javaFixtureFiles(VULNERABLE_JAVA)['opt/app/webapps/shop.war']!;
  const r = parseJavaArchive(war, '/opt/app/webapps/shop.war');
  assert.deepEqual(
    r.items.map((i) => `${i.name}@${i.version} ${i.location}`).sort(),
    [
      'com.example:shop@1.0.0 /opt/app/webapps/shop.war',
      'org.apache.logging.log4j:log4j-core@2.14.1 /opt/app/webapps/shop.war!WEB-INF/lib/log4j-core-2.14.1.jar',
      'org.apache.struts:struts2-core@2.3.31 /opt/app/webapps/shop.war!WEB-INF/lib/struts2-core-2.3.31.jar',
    ],
  );
  assert.deepEqual(r.diagnostics, []);
});

test('ear > war > jar nesting and a fat jar with shaded dependencies', () => {
  const fat = zipSync({
    'META-INF/maven/com.example/app/pom.properties': strToU8('groupId=com.example\nartifactId=app\nversion=3.0\n'),
    'META-INF/maven/commons-io/commons-io/pom.properties': strToU8('groupId=commons-io\nartifactId=commons-io\nversion=2.6\n'),
  });
  const war = zipSync({ 'WEB-INF/lib/app.jar': fat, 'WEB-INF/lib/junit-4.12.jar': mavenJar('junit', 'junit', '4.12') });
  const ear = zipSync({ 'web.war': war });
  const r = parseJavaArchive(ear, 'x.ear');
  assert.deepEqual(r.items.map((i) => `${i.name}@${i.version}`).sort(), ['com.example:app@3.0', 'commons-io:commons-io@2.6', 'junit:junit@4.12']);
  assert.equal(r.items.find((i) => i.name === 'junit:junit')!.location, 'x.ear!web.war!WEB-INF/lib/junit-4.12.jar');
  assert.equal(parseJavaArchive(ear, 'x.ear', { maxDepth: 1 }).items.length, 0);
});

test('corrupt archives are reported and skipped, nested or not', () => {
  const files = javaFixtureFiles(VULNERABLE_JAVA);
  const top = parseJavaArchive(files['opt/app/lib/broken.jar']!, 'broken.jar');
  assert.equal(top.items.length, 0);
  assert.equal(top.diagnostics[0]!.code, 'VULN_JAR_CORRUPT');
  assert.equal(top.diagnostics[0]!.file, 'broken.jar');
  const war = zipSync({ 'WEB-INF/lib/bad.jar': files['opt/app/lib/broken.jar']!, 'WEB-INF/lib/junit.jar': mavenJar('junit', 'junit', '4.12') });
  const r = parseJavaArchive(war, 'app.war');
  assert.deepEqual(r.items.map((i) => i.name), ['junit:junit']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.file]), [['VULN_JAR_CORRUPT', 'app.war!WEB-INF/lib/bad.jar']]);
});

test('manifest fallback needs a vendor id; otherwise the jar is reported as unidentified', () => {
  const files = javaFixtureFiles(VULNERABLE_JAVA);
  const r = parseJavaArchive(files['opt/app/lib/vendor-tool-2.1.jar']!, '/opt/app/lib/vendor-tool-2.1.jar');
  assert.deepEqual(r.items.map((i) => `${i.name}@${i.version}`), ['com.vendor:vendor-tool@2.1']);
  const anon = zipSync({ 'META-INF/MANIFEST.MF': strToU8('Manifest-Version: 1.0\nImplementation-Title: x\n') });
  assert.equal(parseJavaArchive(anon, 'x-1.0.jar').diagnostics[0]!.code, 'VULN_JAR_UNIDENTIFIED');
});

test('committed fixture jars identify the same artifacts as freshly generated ones', () => {
  const root = path.join(repoRoot, 'packages/vuln/fixtures/vulnerable-host');
  for (const [rel, bytes] of Object.entries(javaFixtureFiles(VULNERABLE_JAVA))) {
    const onDisk = parseJavaArchive(readFileSync(path.join(root, rel)), rel);
    const fresh = parseJavaArchive(bytes, rel);
    assert.deepEqual(onDisk.items, fresh.items, rel);
    assert.deepEqual(onDisk.diagnostics.map((d) => d.code), fresh.diagnostics.map((d) => d.code), rel);
  }
});

test('nested archives beyond the size budget are reported, not unpacked', () => {
  const jarA = mavenJar('g', 'a', '1.0');
  const jarB = mavenJar('g', 'b', '1.0');
  const war = zipSync({ 'WEB-INF/lib/a.jar': [jarA, { level: 0 }], 'WEB-INF/lib/b.jar': [jarB, { level: 0 }] });
  const r = parseJavaArchive(war, 'w.war', { maxTotalBytes: jarA.length + 10 });
  assert.deepEqual(r.items.map((i) => i.name), ['g:a']);
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['VULN_JAR_TOO_LARGE']);
});

test('local Maven and Gradle repository paths identify jars that carry no pom.properties', () => {
  assert.deepEqual(mavenCoordinatesFromPath('/root/.m2/repository/com/diffplug/durian/durian-core/1.2.0/durian-core-1.2.0.jar'), {
    group: 'com.diffplug.durian',
    artifact: 'durian-core',
    version: '1.2.0',
  });
  assert.deepEqual(
    mavenCoordinatesFromPath('/home/u/.gradle/caches/modules-2/files-2.1/org.slf4j/slf4j-api/1.7.36/6c62681a2f655b49963a5983b8b0950a6120ae14/slf4j-api-1.7.36.jar'),
    { group: 'org.slf4j', artifact: 'slf4j-api', version: '1.7.36' },
  );
  assert.equal(mavenCoordinatesFromPath('/opt/app/lib/durian-core-1.2.0.jar'), undefined);
  assert.equal(mavenCoordinatesFromPath('/x/repository/a/b/1.0/other.jar'), undefined);
  const bare = zipSync({ 'META-INF/MANIFEST.MF': strToU8('Manifest-Version: 1.0\n') });
  const r = parseJavaArchive(bare, '/root/.m2/repository/aopalliance/aopalliance/1.0/aopalliance-1.0.jar');
  assert.deepEqual(r.items.map((i) => `${i.name}@${i.version}`), ['aopalliance:aopalliance@1.0']);
  assert.deepEqual(r.diagnostics, []);
});
