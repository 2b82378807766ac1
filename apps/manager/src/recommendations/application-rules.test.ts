import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdvisoryIndex, type InventoryItem } from '@palisade/vuln';
import { computeRecommendations } from './compute-recommendations.ts';
import { RuleCatalog } from './rule-catalog.ts';

// The shipped catalog (rules/): log-inspection and integrity rules are recommended by the
// software a host has, whatever its version; IPS patches by vulnerable versions.
const catalog = RuleCatalog.load();
const deb = (name: string, version: string): InventoryItem =>
  ({ ecosystem: 'Debian:12', name, version, purl: `pkg:deb/debian/${name}@${version}`, location: '/var/lib/dpkg/status' }) as InventoryItem;

test('the shipped catalog loads without problems and has application rules for both modules', () => {
  assert.deepEqual(catalog.problems, []);
  const ids = (m: string) => catalog.rules.filter((r) => r.module === m).map((r) => r.id);
  assert.deepEqual(ids('log-inspection'), ['apache', 'auditd', 'nginx', 'sshd']);
  assert.ok(ids('integrity').includes('nginx') && ids('integrity').includes('postgresql'));
});

test('packages, running processes and listening ports each recommend the rules that watch them', () => {
  const r = computeRecommendations([deb('nginx', '1.22.1-9'), deb('coreutils', '9.1-1')], new AdvisoryIndex(), catalog, [], {
    ports: [{ protocol: 'tcp', address: '0.0.0.0', port: 22, process: 'sshd' }],
    processes: [{ pid: 812, name: 'redis-server', exe: '/usr/bin/redis-server' }],
  });
  assert.deepEqual(
    r.recommended.map((x) => `${x.module}/${x.ruleId}`),
    ['integrity/nginx', 'integrity/redis', 'log-inspection/nginx', 'log-inspection/sshd'],
  );
  const sshd = r.recommended.find((x) => x.module === 'log-inspection' && x.ruleId === 'sshd')!;
  assert.deepEqual(sshd.reasons, [{ via: 'software', advisoryId: 'port:22', package: 'sshd', version: '', location: 'tcp 0.0.0.0:22' }]);
  const redis = r.recommended.find((x) => x.ruleId === 'redis')!;
  assert.equal(redis.reasons[0]!.location, '/usr/bin/redis-server');
  assert.deepEqual(
    r.diff.assign.map((x) => `${x.module}/${x.ruleId}`),
    r.recommended.map((x) => `${x.module}/${x.ruleId}`),
  );
});

test('removing the software unassigns what recommendation assigned, never what a person assigned', () => {
  const current = [
    { module: 'log-inspection', ruleId: 'nginx', source: 'recommendation' as const, assignedAt: '', reasons: [] },
    { module: 'integrity', ruleId: 'docker', source: 'manual' as const, assignedAt: '', reasons: [] },
  ];
  const r = computeRecommendations([deb('coreutils', '9.1-1')], new AdvisoryIndex(), catalog, current as never);
  assert.deepEqual(r.diff.unassign, [
    { module: 'log-inspection', ruleId: 'nginx', reason: 'the software it watches is no longer installed, running or listening' },
  ]);
});
