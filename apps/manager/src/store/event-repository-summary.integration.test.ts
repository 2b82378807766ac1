import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent } from '@palisade/protocol';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

/**
 * GET /api/v1/events/summary on SQLite and PostgreSQL against a reference computed here from the
 * inserted events. The window holds 2,600 events and the newest 1,000 are dominated by another
 * computer, rule and CVE than the window as a whole, so a summary of "the latest 1,000" (what the
 * console used to compute) gives different answers and fails these assertions.
 */
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const since = new Date(T0).toISOString();
const until = new Date(T0 + 6 * 3600_000).toISOString();

/** The reference rule for "blocked", written out independently of the SQL. */
const blockedRef = (e: AgentEvent) =>
  /block|deny|drop|reject|quarantin|prevent|fail-closed|kill/.test(
    String((e.details as { action?: unknown } | undefined)?.action ?? e.type).toLowerCase(),
  );

function top(counts: Map<string, number>, n: number): Array<[string, number]> {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

for (const make of testLocations()) {
  const loc = make();
  describe(`event summary: ${loc.name}`, () => {
    let tm: TestManager;
    const inWindow: Array<AgentEvent & { computerId: string }> = [];
    const ids: string[] = [];
    const hostnames = new Map<string, string>();

    before(async () => {
      tm = await testManager(loc);
      const store = (await tm.stores.tenant('primary'))!;
      for (const h of ['db-1', 'web-1', 'web-2']) {
        const { computer } = await store.computers.activate(sampleHost(h), { policyId: null, group: null, heartbeatSeconds: 60 });
        ids.push(computer.id);
        hostnames.set(computer.id, h);
      }
      const [db1, web1, web2] = ids as [string, string, string];
      const batches = new Map<string, AgentEvent[]>();
      let n = 0;
      const add = (computerId: string, offsetMs: number, e: Partial<AgentEvent> & Pick<AgentEvent, 'module' | 'type'>) => {
        const ev: AgentEvent = {
          id: `ev-${String(n++).padStart(6, '0')}`,
          time: new Date(T0 + offsetMs).toISOString(),
          severity: 'high',
          message: 'm',
          ...e,
        } as AgentEvent;
        (batches.get(computerId) ?? batches.set(computerId, []).get(computerId)!).push(ev);
        if (offsetMs >= 0 && offsetMs < 6 * 3600_000) inWindow.push({ ...ev, computerId });
      };
      // Hours 0-3: 1,600 IPS events on db-1, blocked, rule 942100, CVE-2021-44228 (plus one more CVE on some).
      for (let i = 0; i < 1600; i++) {
        add(db1, Math.floor((i * 4 * 3600_000) / 1600), {
          module: 'ips',
          type: 'request',
          ruleId: '942100',
          details: { action: 'blocked', cves: i % 4 === 0 ? ['CVE-2021-44228', 'CVE-2017-5638'] : ['CVE-2021-44228'] },
        });
      }
      // Hours 4-6 (the newest 1,000): web-1 and web-2, detected, other rules and CVEs.
      for (let i = 0; i < 1000; i++) {
        const offset = 4 * 3600_000 + Math.floor((i * 2 * 3600_000) / 1000);
        if (i % 10 === 0) add(web1, offset, { module: 'system', type: 'agent.started' });
        else if (i % 10 === 1) add(web2, offset, { module: 'firewall', type: 'packet', ruleId: 'fw-7', details: { action: 'deny' } });
        else if (i % 10 === 2) add(web2, offset, { module: 'anti-malware', type: 'malware.quarantined' });
        else if (i % 10 === 3) add(web2, offset, { module: 'integrity', type: 'file.changed', details: ['not', 'an', 'object'] as never });
        else if (i % 10 === 4)
          add(web2, offset, { module: 'ips', type: 'request', ruleId: '920350', details: { action: 'detected', cves: 'CVE-0000-0000' } });
        else
          add(web1, offset, { module: 'ips', type: 'request', ruleId: '941100', details: { action: 'detected', cves: ['CVE-2023-1234'] } });
      }
      // Outside the window on both sides: must not count.
      for (let i = 0; i < 50; i++)
        add(web2, -1 - i * 1000, {
          module: 'ips',
          type: 'request',
          ruleId: 'outside',
          details: { action: 'blocked', cves: ['CVE-1999-0001'] },
        });
      for (let i = 0; i < 50; i++)
        add(web2, 6 * 3600_000 + i * 1000, { module: 'ips', type: 'request', ruleId: 'outside', details: { action: 'blocked' } });
      for (const [computerId, events] of batches) await store.events.ingest(computerId, events);
    });
    after(async () => tm?.close());

    test('totals, blocked/detected, top lists and per-hour counts equal the reference over the whole window', async () => {
      const res = await tm.call('GET', `/api/v1/events/summary?since=${since}&until=${until}&top=5`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const s = res.body;
      assert.ok(inWindow.length > 2000);
      assert.equal(s.total, inWindow.length);
      const protective = inWindow.filter((e) => e.module !== 'system');
      assert.equal(s.blocked, protective.filter(blockedRef).length);
      assert.equal(s.detected, protective.filter((e) => !blockedRef(e)).length);
      assert.equal(s.blocked, 1600 + 100 + 100, 'ips blocked + firewall deny + quarantined');

      const computers = new Map<string, number>();
      const rules = new Map<string, number>();
      const cves = new Map<string, number>();
      const hours = new Map<string, number>();
      for (const e of inWindow) {
        if (e.module !== 'system') bump(computers, e.computerId);
        if (e.ruleId) bump(rules, `${e.module}\n${e.ruleId}`);
        const list = (e.details as { cves?: unknown } | undefined)?.cves;
        if (Array.isArray(list)) for (const c of new Set(list)) bump(cves, String(c));
        bump(hours, `${e.time.slice(0, 13)}:00:00Z\n${e.module}`);
      }
      assert.deepEqual(
        s.topComputers.map((c: { computerId: string; hostname: string; count: number }) => [c.computerId, c.hostname, c.count]),
        top(computers, 5).map(([id, n]) => [id, hostnames.get(id), n]),
      );
      assert.equal(s.topComputers[0].hostname, 'db-1');
      assert.deepEqual(
        s.topRules.map((r: { module: string; ruleId: string; count: number }) => [`${r.module}\n${r.ruleId}`, r.count]),
        top(rules, 5),
      );
      assert.deepEqual(
        s.topCves.map((c: { cve: string; count: number }) => [c.cve, c.count]),
        top(cves, 5),
      );
      assert.deepEqual(s.topCves[0], { cve: 'CVE-2021-44228', count: 1600 });
      assert.deepEqual(
        s.perHour.map((h: { hour: string; module: string; count: number }) => [`${h.hour}\n${h.module}`, h.count]).sort(),
        [...hours].sort(),
      );
    });

    test('the newest 1,000 events alone would have told a different story', async () => {
      const latest = inWindow
        .slice()
        .sort((a, b) => (a.time < b.time ? 1 : -1))
        .slice(0, 1000);
      const computers = new Map<string, number>();
      for (const e of latest) if (e.module !== 'system') bump(computers, e.computerId);
      const res = await tm.call('GET', `/api/v1/events/summary?since=${since}&until=${until}`);
      assert.notEqual(top(computers, 1)[0]![0], res.body.topComputers[0].computerId);
      assert.notEqual(latest.filter((e) => e.module !== 'system' && blockedRef(e)).length, res.body.blocked);
    });

    test('defaults, limits and validation', async () => {
      const one = await tm.call('GET', `/api/v1/events/summary?since=${since}&until=${until}&top=1`);
      assert.equal(one.body.topRules.length, 1);
      assert.equal((await tm.call('GET', `/api/v1/events/summary?since=${until}&until=${since}`)).body.code, 'API_VALIDATION');
      assert.equal((await tm.call('GET', '/api/v1/events/summary?since=yesterday')).status, 400);
      // Default window: the 24 hours before now; these 2026-03 events are outside it.
      const recent = await tm.call('GET', '/api/v1/events/summary');
      assert.equal(recent.status, 200);
      assert.ok(Date.parse(recent.body.until) - Date.parse(recent.body.since) === 86400_000);
      const empty = await tm.call('GET', `/api/v1/events/summary?since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z`);
      assert.deepEqual(
        { ...empty.body, since: undefined, until: undefined },
        { since: undefined, until: undefined, total: 0, blocked: 0, detected: 0, topComputers: [], topRules: [], topCves: [], perHour: [] },
      );
      // Auditors may read it; without credentials nobody may.
      const auditor = (await tm.call('POST', '/api/v1/api-keys', { body: { name: 'a', role: 'auditor' } })).body.secret;
      assert.equal((await tm.call('GET', '/api/v1/events/summary', { key: auditor })).status, 200);
      assert.equal((await tm.call('GET', '/api/v1/events/summary', { key: null })).status, 401);
    });
  });
}
