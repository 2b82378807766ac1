import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

/**
 * The virtual-patching lifecycle on the manager: a host with a vulnerable struts2-core and
 * log4j-core gets the rules that shield them assigned automatically (policy `auto`), receives
 * them in its configuration, and loses them again when the jars are upgraded; every change is
 * audited with its reason. Vulnerability data: real GHSA records from the shared OSV sample.
 */
const shared = process.env.PALISADE_SHARED ?? resolve(fileURLToPath(new URL('../../../..', import.meta.url)), '../shared');
const rulesDir = mkdtempSync(join(tmpdir(), 'palisade-rules-'));

function rule(id: string, meta: string): void {
  mkdirSync(join(rulesDir, 'ips', id), { recursive: true });
  writeFileSync(join(rulesDir, 'ips', id, 'meta.yaml'), meta);
}
// Struts: the rule's own ranges match (works without any OSV data).
rule(
  'CVE-2017-5638',
  `id: CVE-2017-5638
title: Struts2 S2-045 OGNL in Content-Type
cves: [CVE-2017-5638]
ruleIds: [9500010]
affected:
  - ecosystem: Maven
    name: org.apache.struts:struts2-core
    ranges:
      - type: ECOSYSTEM
        events: [{ introduced: "2.3.5" }, { fixed: "2.3.32" }, { introduced: "2.5.0" }, { fixed: "2.5.10.1" }]
`,
);
// Log4Shell: no ranges of its own, recommended through the advisory that names its CVE.
rule(
  'CVE-2021-44228',
  `id: CVE-2021-44228
title: Log4Shell JNDI lookup
cves: [CVE-2021-44228]
ruleIds: [9500020]
affected: []
`,
);

const jar = (name: string, version: string) => ({
  ecosystem: 'Maven',
  name,
  version,
  purl: `pkg:maven/${name.replace(':', '/')}@${version}`,
  location: `/opt/app/app.war!WEB-INF/lib/${name.split(':')[1]}-${version}.jar`,
});

let m: TestManager;
let computerId: string;
let agentAuth: string;

before(async () => {
  m = await testManager(testLocations()[0]!(), { rulesDir });
  const records = ['GHSA-jfh8-c2jp-5v3q', 'GHSA-j77q-2qqg-6989'].map((id) =>
    JSON.parse(readFileSync(join(shared, 'osv-sample/github-advisory-database', `${id}.json`), 'utf8')),
  );
  const imp = await m.call('POST', '/api/v1/vulnerability-data', { body: { source: 'osv-sample', records } });
  assert.equal(imp.status, 201, JSON.stringify(imp.body));
  assert.equal(imp.body.added, 2);
  const policy = (await m.call('POST', '/api/v1/policies', { body: { name: 'Java apps', settings: { recommendations: 'auto' } } })).body;
  const tok = (await m.call('POST', '/api/v1/activation-tokens', { body: { policyId: policy.id } })).body.token;
  const act = (await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: tok, host: sampleHost('app-1') } })).body;
  computerId = act.agentId;
  agentAuth = `${act.agentId}:${act.agentSecret}`;
});
after(async () => {
  await m.close();
  rmSync(rulesDir, { recursive: true, force: true });
});

async function report(items: ReturnType<typeof jar>[]) {
  const res = await m.call('POST', '/api/agent/v1/inventory', {
    agent: agentAuth,
    body: { collectedAt: new Date().toISOString(), inventory: { items, ports: [] } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { changed: boolean };
}

/** Runs the jobs the manager queued (what a job runner node does). */
async function runQueuedScans() {
  const store = (await m.stores.tenant('primary'))!;
  for (;;) {
    const job = await store.jobs.claim('test', 30);
    if (!job) return;
    assert.equal(job.kind, 'recommendation-scan');
    const out = await m.recommendations.scan(store, String(job.args.computerId), 'by-policy', `job:${job.id}`);
    await store.jobs.succeed(job.id, 'test', { applied: out.applied });
  }
}

test('a vulnerable host gets the shielding rules assigned, with reasons, and receives them', async () => {
  assert.equal(
    (await report([jar('org.apache.struts:struts2-core', '2.3.31'), jar('org.apache.logging.log4j:log4j-core', '2.14.1')])).changed,
    true,
  );
  await runQueuedScans();
  const recs = (await m.call('GET', `/api/v1/computers/${computerId}/recommendations`)).body;
  assert.deepEqual(recs.assigned.map((a: { ruleId: string }) => a.ruleId).sort(), ['CVE-2017-5638', 'CVE-2021-44228']);
  const vulns = (await m.call('GET', `/api/v1/computers/${computerId}/vulnerabilities`)).body.vulnerabilities;
  assert.deepEqual(vulns.map((v: { advisoryId: string }) => v.advisoryId).sort(), ['GHSA-j77q-2qqg-6989', 'GHSA-jfh8-c2jp-5v3q']);
  const log4j = vulns.find((v: { advisoryId: string }) => v.advisoryId === 'GHSA-jfh8-c2jp-5v3q');
  assert.equal(log4j.fixedVersion, '2.15.0');
  assert.deepEqual(log4j.shieldedBy, ['ips/CVE-2021-44228']);
  const cfg = (await m.call('GET', `/api/v1/computers/${computerId}/effective-config`)).body;
  assert.deepEqual(cfg.config.modules.ips.settings.assignedRules, ['CVE-2017-5638', 'CVE-2021-44228']);
  assert.equal(cfg.config.recommendations, undefined, 'manager-only settings never reach the agent');
  const audit = (await m.call('GET', `/api/v1/audit?target=computer:${encodeURIComponent(computerId)}&action=rule.assign`)).body.entries;
  assert.equal(audit.length, 2);
  const struts = audit.find((a: { details: { ruleId: string } }) => a.details.ruleId === 'CVE-2017-5638');
  assert.equal(struts.details.reasons[0].package, 'org.apache.struts:struts2-core');
  // Both paths must work: the rule's own ranges, and the advisory naming its CVE.
  assert.deepEqual(struts.details.reasons.map((r: { via: string }) => r.via).sort(), ['advisory', 'rule-range']);
  assert.equal(struts.details.reasons[0].version, '2.3.31');
});

test('a hand-assigned rule is kept; a dry run shows the diff without applying it', async () => {
  const store = (await m.stores.tenant('primary'))!;
  const c = await store.computers.require(computerId);
  await store.computers.update(computerId, {
    ruleAssignments: [
      ...c.ruleAssignments,
      { module: 'ips', ruleId: 'CVE-2014-6271', source: 'manual', assignedAt: new Date().toISOString(), reason: {} },
    ],
  });
  await report([jar('org.apache.struts:struts2-core', '2.3.32'), jar('org.apache.logging.log4j:log4j-core', '2.14.1')]);
  const dry = (await m.call('POST', `/api/v1/computers/${computerId}/recommendations/scan`, { body: { dryRun: true } })).body;
  assert.deepEqual(
    dry.diff.unassign.map((u: { ruleId: string }) => u.ruleId),
    ['CVE-2017-5638'],
  );
  assert.equal(dry.applied, false);
  assert.ok(
    (await store.computers.require(computerId)).ruleAssignments.some((a) => a.ruleId === 'CVE-2017-5638'),
    'dry run changed nothing',
  );
});

test('upgrading removes the virtual patch, audited with versions before and after; manual rules stay', async () => {
  await runQueuedScans();
  const assigned = (await m.call('GET', `/api/v1/computers/${computerId}/recommendations`)).body.assigned
    .map((a: { ruleId: string }) => a.ruleId)
    .sort();
  assert.deepEqual(assigned, ['CVE-2014-6271', 'CVE-2021-44228']);
  const un = (await m.call('GET', `/api/v1/audit?action=rule.unassign`)).body.entries;
  assert.equal(un.length, 1);
  assert.equal(un[0].details.ruleId, 'CVE-2017-5638');
  assert.deepEqual(un[0].details.packages[0], {
    package: 'org.apache.struts:struts2-core',
    location: '/opt/app/app.war!WEB-INF/lib/struts2-core-2.3.31.jar',
    versionBefore: '2.3.31',
    versionAfter: null,
  });
  // The same report again is not a change: no new scan is queued.
  assert.equal(
    (await report([jar('org.apache.struts:struts2-core', '2.3.32'), jar('org.apache.logging.log4j:log4j-core', '2.14.1')])).changed,
    false,
  );
});

test('policy mode report computes but does not change assignments', async () => {
  const c = (await m.call('GET', `/api/v1/computers/${computerId}`)).body;
  await m.call('PATCH', `/api/v1/policies/${c.policyId}`, { body: { settings: { recommendations: 'report' } } });
  await report([jar('org.apache.struts:struts2-core', '2.5.8')]);
  await runQueuedScans();
  const r = (await m.call('GET', `/api/v1/computers/${computerId}/recommendations`)).body;
  assert.equal(r.scan.mode, 'report');
  assert.equal(r.scan.applied, false);
  assert.deepEqual(
    r.scan.diff.assign.map((x: { ruleId: string }) => x.ruleId),
    ['CVE-2017-5638'],
  );
  assert.ok(!r.assigned.some((a: { ruleId: string }) => a.ruleId === 'CVE-2017-5638'));
});

test('a smart folder scan is queued through the API and scans each member by its policy', async () => {
  const { JOB_HANDLERS } = await import('../jobs/job-handlers.ts');
  const c = (await m.call('GET', `/api/v1/computers/${computerId}`)).body;
  await m.call('PATCH', `/api/v1/policies/${c.policyId}`, { body: { settings: { recommendations: 'auto' } } });
  await report([jar('org.apache.struts:struts2-core', '2.3.31')]);
  const store = (await m.stores.tenant('primary'))!;
  for (let j = await store.jobs.claim('test', 30); j; j = await store.jobs.claim('test', 30)) await store.jobs.succeed(j.id, 'test', {});

  const folder = (
    await m.call('POST', '/api/v1/smart-folders', {
      body: { name: 'app hosts', query: { all: [{ field: 'hostname', op: 'equals', value: 'app-1' }] } },
    })
  ).body;
  assert.equal((await m.call('POST', '/api/v1/smart-folders/00000000-0000-4000-8000-000000000000/recommendations/scan')).status, 404);
  const queued = await m.call('POST', `/api/v1/smart-folders/${folder.id}/recommendations/scan`);
  assert.equal(queued.status, 202, JSON.stringify(queued.body));
  assert.deepEqual(queued.body.args, { smartFolderId: folder.id });

  const job = (await store.jobs.claim('test', 30))!;
  assert.equal(job.id, queued.body.id);
  const notified: string[] = [];
  const result = await JOB_HANDLERS[job.kind]!(job, store, { notify: (id) => notified.push(id), recommendations: m.recommendations });
  await store.jobs.succeed(job.id, 'test', result);
  // The struts patch is assigned; what earlier tests left assigned for other jars is removed.
  const summary = result as { scanned: number; skipped: number; assigned: number };
  assert.deepEqual([summary.scanned, summary.skipped, summary.assigned], [1, 0, 1]);
  assert.deepEqual(notified, [computerId], 'the agent is told to fetch its new configuration');
  const done = (await m.call('GET', `/api/v1/jobs/${job.id}`)).body;
  assert.equal(done.status, 'succeeded');
  const assigned = (await m.call('GET', `/api/v1/computers/${computerId}/recommendations`)).body.assigned;
  assert.ok(assigned.some((a: { ruleId: string }) => a.ruleId === 'CVE-2017-5638'));
});
