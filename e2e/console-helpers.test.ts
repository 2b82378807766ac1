import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiClientError, type ApiTransport, type Event, PalisadeClient } from '@palisade/api-client';
import { type TestManager, testManager } from '../apps/manager/src/testing/test-manager.ts';
import { type TestLocation, testLocations } from '../apps/manager/src/testing/test-stores.ts';
import { cvesOf, outcomeOf } from '../apps/console/src/event-outcome.ts';
import { eventsToCsv, eventsToJson } from '../apps/console/src/export-events.ts';
import { shortRef } from '../apps/console/src/format.ts';
import { selectedPatches, withPatches } from '../apps/console/src/patch-selection.ts';
import { detectRole, tenantOfKey } from '../apps/console/src/role-detection.ts';
import { cleanQuery } from '../apps/console/src/smart-folder-query.ts';

/** The console's logic that is not layout, against a real in-process manager where it talks to one. */
let loc: TestLocation;
let tm: TestManager;
before(async () => {
  loc = testLocations()[0]!();
  tm = await testManager(loc);
});
after(async () => {
  await tm?.close();
  await loc?.cleanup();
});

/** A PalisadeClient whose requests go to the in-process manager through Fastify's inject. */
function clientFor(apiKey: string): PalisadeClient {
  const transport: ApiTransport = async (req) => {
    const res = await tm.app.inject({
      method: req.method as 'GET',
      url: req.url.replace('http://manager', ''),
      headers: req.headers,
      ...(req.body !== undefined ? { payload: req.body } : {}),
    });
    return { status: res.statusCode, body: res.body };
  };
  return new PalisadeClient({ url: 'http://manager', apiKey, transport });
}

const event = (over: Partial<Event>): Event => ({
  id: 'e1',
  computerId: 'c1',
  time: '2026-01-01T00:00:00.000Z',
  module: 'ips',
  type: 'ips.detected',
  severity: 'high',
  message: 'm',
  receivedAt: '2026-01-01T00:00:01.000Z',
  ...over,
});

test('the role shown after login is the one the key really has', async () => {
  const admin = clientFor(tm.adminKey);
  assert.equal(await detectRole(admin), 'admin');
  for (const role of ['operator', 'auditor'] as const) {
    const { secret } = await admin.createApiKey({ name: `console ${role}`, role });
    assert.equal(await detectRole(clientFor(secret)), role);
    assert.equal(tenantOfKey(secret), 'primary');
  }
  await assert.rejects(detectRole(clientFor('psk_primary.nope.nope')), (e: unknown) => e instanceof ApiClientError && e.status === 401);
});

test("the query builder's output is a query the manager accepts and evaluates", async () => {
  const built = cleanQuery({
    all: [
      { field: 'hostname', op: 'contains', value: 'web' },
      { field: 'tag:env', op: 'anyValue', value: 'left over from editing' },
      { any: [] },
      {
        any: [
          { field: 'ip', op: 'inCidr', value: '10.0.0.0/8' },
          { field: 'status', op: 'equals' },
        ],
      },
    ],
  });
  assert.deepEqual(built, {
    all: [
      { field: 'hostname', op: 'contains', value: 'web' },
      { field: 'tag:env', op: 'anyValue' },
      {
        any: [
          { field: 'ip', op: 'inCidr', value: '10.0.0.0/8' },
          { field: 'status', op: 'equals', value: '' },
        ],
      },
    ],
  });
  const api = clientFor(tm.adminKey);
  const folder = await api.createSmartFolder({ name: 'built by the console', query: built });
  assert.deepEqual((await api.smartFolderComputers(folder.id)).computers, []);
  // And the manager refuses what the builder must not produce (so the check above means something).
  await assert.rejects(api.createSmartFolder({ name: 'bad', query: { all: [{ any: [] }, { field: 'nope', op: 'equals' }] } }));
});

test('CSV export quotes, keeps details as JSON and defuses spreadsheet formulas', () => {
  const csv = eventsToCsv([
    event({ message: 'a, "quoted"\nline', ruleId: '942100', details: { matchedData: "' OR 1=1", cves: ['CVE-2017-5638'] } }),
    event({ id: 'e2', message: '=HYPERLINK("http://x")' }),
  ]);
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'id,time,computerId,module,type,severity,ruleId,message,details,receivedAt');
  assert.ok(csv.includes('"a, ""quoted""\nline"'));
  assert.ok(csv.includes('"{""matchedData"":""\' OR 1=1"",""cves"":[""CVE-2017-5638""]}"'));
  assert.ok(csv.includes(`"'=HYPERLINK(""http://x"")"`), 'a formula is prefixed with a quote');
  assert.equal(JSON.parse(eventsToJson([event({})]))[0].id, 'e1');
});

test('blocked or detected, and the CVEs of an event', () => {
  assert.equal(outcomeOf(event({ type: 'ips.blocked', details: { action: 'blocked' } })), 'blocked');
  assert.equal(outcomeOf(event({ type: 'ips.detected', details: { action: 'detected' } })), 'detected');
  assert.equal(outcomeOf(event({ module: 'anti-malware', type: 'malware.found', details: { action: 'quarantined' } })), 'blocked');
  assert.equal(outcomeOf(event({ module: 'firewall', type: 'firewall.deny' })), 'blocked');
  assert.equal(outcomeOf(event({ module: 'integrity', type: 'fim.changed' })), 'detected');
  assert.deepEqual(cvesOf(event({ details: { cves: ['CVE-2017-5638'] }, message: 'also CVE-2021-44228 and CVE-2017-5638' })), [
    'CVE-2017-5638',
    'CVE-2021-44228',
  ]);
  assert.deepEqual(cvesOf(event({})), []);
});

test('audit references are shortened, other text is left alone', () => {
  assert.equal(shortRef('computer:primary.5e5a4f0d-6526-4e18-b632-fee2fecf099b'), 'computer 5e5a4f0d');
  assert.equal(shortRef('api-key:d79c7b35-e87a-47a3-a222-6ed99c73dcfa'), 'api-key d79c7b35');
  assert.equal(shortRef('policy:quickstart'), 'policy:quickstart');
});

test('the patch picker edits only ruleSets.patches.only, and the manager accepts the result', async () => {
  const before = JSON.stringify({ services: [], ruleSets: { seclang: [{ name: 'x', text: 'SecRuleEngine On' }] }, paranoia: 2 });
  assert.equal(selectedPatches(before), undefined);
  const after = withPatches(before, ['CVE-2021-44228', 'CVE-2017-5638']);
  assert.deepEqual(JSON.parse(after), {
    services: [],
    ruleSets: { seclang: [{ name: 'x', text: 'SecRuleEngine On' }], patches: { only: ['CVE-2017-5638', 'CVE-2021-44228'] } },
    paranoia: 2,
  });
  assert.deepEqual(selectedPatches(after), ['CVE-2017-5638', 'CVE-2021-44228']);
  assert.deepEqual(selectedPatches(withPatches('', [])), []);
  assert.equal(selectedPatches('{ not json'), undefined);
  // The ids the picker offers are the manager's catalog ids.
  const api = clientFor(tm.adminKey);
  const { rules } = await api.listRules({ module: 'ips' });
  assert.ok(rules.some((r) => r.id === 'CVE-2017-5638'));
  const p = await api.createPolicy({ name: 'picked', settings: { modules: { ips: { settings: JSON.parse(after) } } } });
  assert.deepEqual((p.settings as { modules: { ips: { settings: unknown } } }).modules.ips.settings, JSON.parse(after));
});
