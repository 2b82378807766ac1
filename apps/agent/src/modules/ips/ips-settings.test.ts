import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { IpsModule } from './ips-module.ts';
import { BUNDLED_PATCH_DIR, parseIpsSettings } from './ips-settings.ts';

const svc = { name: 'web', listen: { host: '0.0.0.0', port: 8443 }, upstream: { host: '127.0.0.1', port: 8080 } };
const cfg = (settings: Record<string, unknown>): ModuleConfig => ({ enabled: true, mode: 'prevent', settings });

test('valid settings get their defaults', () => {
  const { settings, diagnostics } = parseIpsSettings(cfg({ services: [svc], ruleSets: { patches: { dir: '/x' } } }));
  assert.deepEqual(diagnostics, []);
  assert.equal(settings?.paranoia, 1);
  assert.equal(settings?.failMode, 'open');
  assert.equal(settings?.blockStatus, 403);
  assert.deepEqual(settings?.allowedMethods, ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);
});

test('patches without a dir mean the pack bundled with the agent', () => {
  const { settings } = parseIpsSettings(cfg({ services: [svc], ruleSets: { patches: { only: ['CVE-2017-5638'] } } }));
  assert.equal(settings?.ruleSets.patches?.dir, BUNDLED_PATCH_DIR);
  assert.ok(existsSync(join(BUNDLED_PATCH_DIR, 'CVE-2017-5638', 'rule.conf')));
});

test('bad settings are refused with located diagnostics', () => {
  const codes = (s: Record<string, unknown>) => parseIpsSettings(cfg(s)).diagnostics.map((d) => `${d.code}:${d.message}`);
  assert.match(
    codes({ services: [svc], ruleSets: { patches: { dir: '/x' } }, paranoia: 7 })[0]!,
    /IPS_SETTINGS_INVALID:settings\/paranoia/,
  );
  assert.match(codes({ services: [svc, svc], ruleSets: { patches: { dir: '/x' } } }).join(), /used twice/);
  assert.match(
    codes({ services: [svc], ruleSets: { patches: { dir: '/x' } }, trustedProxies: ['10.0.0.0/33'] }).join(),
    /not an address or CIDR/,
  );
  assert.match(codes({ services: [svc] }).join(), /IPS_NO_RULES/);
  assert.match(
    codes({
      services: [{ ...svc, listen: { host: '0.0.0.0', port: 0 }, transparent: { port: 80 } }],
      ruleSets: { patches: { dir: '/x' } },
    }).join(),
    /fixed listen port/,
  );
  assert.match(codes({ services: [{ ...svc, upstream: svc.listen }], ruleSets: { patches: { dir: '/x' } } }).join(), /proxies to itself/);
  assert.match(codes({ services: [svc], ruleSets: { patches: { dir: '/x' } }, surprise: 1 }).join(), /IPS_SETTINGS_INVALID/);
});

test('configure() compiles inline SecLang and CrowdSec rules and refuses broken ones', () => {
  const m = new IpsModule();
  const good = cfg({
    services: [svc],
    ruleSets: { seclang: [{ name: 'local', text: 'SecRule ARGS "@rx evil" "id:9599990,phase:2,deny,status:403"' }] },
  });
  assert.deepEqual(m.configure(good), []);
  const badRule = m.configure(
    cfg({ services: [svc], ruleSets: { seclang: [{ name: 'local', text: 'SecRule ARGS "@nosuchop x" "id:1,phase:2,deny"' }] } }),
  );
  assert.ok(badRule.length > 0);
  assert.ok(
    badRule.every((d) => d.code.startsWith('SECLANG_')),
    JSON.stringify(badRule),
  );
  assert.equal(badRule[0]!.file, 'custom:local');
  const badYaml = m.configure(cfg({ services: [svc], ruleSets: { crowdsec: [{ name: 'x', yaml: 'rules: [' }] } }));
  assert.equal(badYaml[0]?.code, 'IPS_CROWDSEC_YAML');
  const okAppSec = m.configure(
    cfg({
      services: [svc],
      ruleSets: { crowdsec: [{ name: 'v', yaml: 'name: test/v\nrules:\n  - zones: [URI]\n    match: {type: contains, value: /evil}\n' }] },
    }),
  );
  assert.deepEqual(okAppSec, []);
});

test('enabled with nothing configured (the quickstart) is valid: no services, nothing to protect yet', () => {
  const { settings, diagnostics } = parseIpsSettings(cfg({}));
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(settings?.services, []);
});

test('assigned patches add to the policy selection; alone they are exactly what loads', () => {
  const svcRules = (extra: Record<string, unknown>) => parseIpsSettings(cfg({ services: [svc], ...extra }));
  // Recommendation-driven host: no selection in the policy, two assigned patches.
  const a = svcRules({ assignedRules: ['CVE-2021-44228', 'CVE-2017-5638'] });
  assert.deepEqual(a.diagnostics, []);
  assert.deepEqual(a.settings?.ruleSets.patches?.only, ['CVE-2017-5638', 'CVE-2021-44228']);
  // The policy asks for one patch; the assignment adds another.
  const b = svcRules({ ruleSets: { patches: { only: ['CVE-2014-6271'] } }, assignedRules: ['CVE-2017-5638'] });
  assert.deepEqual(b.settings?.ruleSets.patches?.only, ['CVE-2014-6271', 'CVE-2017-5638']);
  // The whole pack stays the whole pack.
  const c = svcRules({ ruleSets: { patches: {} }, assignedRules: ['CVE-2017-5638'] });
  assert.equal(c.settings?.ruleSets.patches?.only, undefined);
  // No selection and no assignment: no patches, and services without rules are refused.
  assert.match(
    svcRules({ assignedRules: [] })
      .diagnostics.map((d) => d.code)
      .join(),
    /IPS_NO_RULES/,
  );
});
