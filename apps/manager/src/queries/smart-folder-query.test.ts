import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invalidCidrPath, matchesQuery, type QueryableComputer } from './smart-folder-query.ts';

const web1: QueryableComputer = {
  hostname: 'web-1.prod',
  platform: 'linux/debian 12',
  policy: 'Web servers',
  status: 'online',
  group: 'frontend',
  agentVersion: '0.1.0',
  ips: ['10.0.1.5', 'fd00::5'],
  tags: { env: 'prod', team: 'shop' },
};
const db1: QueryableComputer = { ...web1, hostname: 'db-1.prod', policy: 'Databases', ips: ['10.0.2.9'], tags: { env: 'prod' } };
const dev: QueryableComputer = { ...web1, hostname: 'web-1.dev', status: 'offline', ips: ['192.168.5.5'], tags: { env: 'dev' } };

test('AND of conditions', () => {
  const q = {
    all: [
      { field: 'tag:env', op: 'equals' as const, value: 'PROD' },
      { field: 'hostname', op: 'contains' as const, value: 'web' },
    ],
  };
  assert.deepEqual(
    [web1, db1, dev].filter((c) => matchesQuery(c, q)).map((c) => c.hostname),
    ['web-1.prod'],
  );
});

test('OR with nested AND, not-equals and not-contains', () => {
  const q = {
    any: [
      { field: 'status', op: 'notEquals' as const, value: 'online' },
      {
        all: [
          { field: 'policy', op: 'equals' as const, value: 'Databases' },
          { field: 'hostname', op: 'notContains' as const, value: 'web' },
        ],
      },
    ],
  };
  assert.deepEqual(
    [web1, db1, dev].filter((c) => matchesQuery(c, q)).map((c) => c.hostname),
    ['db-1.prod', 'web-1.dev'],
  );
});

test('any value: a tag that is present at all', () => {
  const q = { all: [{ field: 'tag:team', op: 'anyValue' as const }] };
  assert.deepEqual(
    [web1, db1, dev].filter((c) => matchesQuery(c, q)).map((c) => c.hostname),
    ['web-1.prod'],
  );
});

test('IP in CIDR, v4 and v6', () => {
  assert.equal(matchesQuery(web1, { all: [{ field: 'ip', op: 'inCidr', value: '10.0.0.0/16' }] }), true);
  assert.equal(matchesQuery(dev, { all: [{ field: 'ip', op: 'inCidr', value: '10.0.0.0/16' }] }), false);
  assert.equal(matchesQuery(web1, { all: [{ field: 'ip', op: 'inCidr', value: 'fd00::/8' }] }), true);
});

test('invalid CIDR values are found with their path', () => {
  assert.equal(invalidCidrPath({ all: [{ field: 'ip', op: 'inCidr', value: '10.0.0.0/16' }] }), undefined);
  assert.equal(
    invalidCidrPath({
      any: [
        { field: 'hostname', op: 'equals', value: 'x' },
        { field: 'ip', op: 'inCidr', value: '10.0.0.0/33' },
      ],
    }),
    '/query/any/1/value',
  );
});
