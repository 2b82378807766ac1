import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeEffectiveConfig, configHash, deepMerge, explainEffectiveConfig } from './effective-config.ts';

test('a child policy inherits everything and overrides only what it sets', () => {
  const parent = {
    heartbeatSeconds: 10,
    modules: { ips: { enabled: true, mode: 'detect' as const, settings: { paranoia: 1, sets: ['crs'] } } },
  };
  const child = { modules: { ips: { mode: 'prevent' as const, settings: { sets: ['crs', 'patches'] } } } };
  const cfg = computeEffectiveConfig([parent, child]);
  assert.equal(cfg.heartbeatSeconds, 10);
  assert.deepEqual(cfg.modules.ips, { enabled: true, mode: 'prevent', settings: { paranoia: 1, sets: ['crs', 'patches'] } });
  assert.equal(cfg.modules.firewall!.enabled, false, 'untouched modules keep the defaults');
});

test('computer overrides win over the whole policy chain', () => {
  const cfg = computeEffectiveConfig([{ heartbeatSeconds: 10 }], { heartbeatSeconds: 30 });
  assert.equal(cfg.heartbeatSeconds, 30);
});

test('arrays are replaced, not concatenated', () => {
  assert.deepEqual(deepMerge({ a: [1, 2] }, { a: [3] }), { a: [3] });
});

test('the hash ignores key order and changes with content', () => {
  const a = computeEffectiveConfig([{ heartbeatSeconds: 10, spool: { maxBytes: 100000 } }]);
  const b = computeEffectiveConfig([{ spool: { maxBytes: 100000 }, heartbeatSeconds: 10 }]);
  const c = computeEffectiveConfig([{ heartbeatSeconds: 11 }]);
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(c));
});

test('explain names the source of every leaf setting', () => {
  const origins = explainEffectiveConfig(
    [
      { policyId: 'root', settings: { heartbeatSeconds: 10 } },
      { policyId: 'web', settings: { modules: { ips: { mode: 'prevent' } } } },
    ],
    { spool: { maxBytes: 70000 } },
  );
  const by = (p: string) => origins.find((o) => o.path === p)!;
  assert.deepEqual(by('heartbeatSeconds').source, { policyId: 'root' });
  assert.deepEqual(by('modules.ips.mode').source, { policyId: 'web' });
  assert.equal(by('modules.ips.enabled').source, 'default');
  assert.equal(by('spool.maxBytes').source, 'computer');
});
