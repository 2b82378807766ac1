import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayCrowdSec } from '../../apps/agent/src/modules/ips/crowdsec-replay.ts';

/** Full CrowdSec hub replay through the proxy with the pack + CRS PL1 (prints a Markdown report). */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shared = process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared');
const paranoia = Number(process.env.PL ?? 1);
const withCrs = process.env.NO_CRS !== '1';
// CROWDSEC=1 adds the hub's own vpatch rules (AppSec YAML) to show that rule-set path.
const rulesDir = join(shared, 'crowdsec-hub-appsec/appsec-rules/crowdsecurity');
const crowdsec =
  process.env.CROWDSEC === '1'
    ? readdirSync(rulesDir)
        .filter((f) => f.startsWith('vpatch-'))
        .map((f) => ({ name: f, yaml: readFileSync(join(rulesDir, f), 'utf8') }))
    : undefined;
const r = await replayCrowdSec({
  testsDir: join(shared, 'crowdsec-hub-appsec/appsec-tests'),
  packDir: join(repoRoot, 'rules/ips'),
  ...(withCrs ? { crsDir: join(shared, 'crs') } : {}),
  paranoia,
  ...(crowdsec ? { crowdsec } : {}),
  now: () => performance.now(),
});
const full = r.templates.filter((t) => t.fullyBlocked).length;
console.log(
  `# CrowdSec hub replay: pack${withCrs ? ` + CRS PL${paranoia}` : ' only'}${crowdsec ? ` + ${crowdsec.length} CrowdSec vpatch rules` : ''}, prevent mode`,
);
console.log(
  `templates fully blocked: ${full}/${r.templates.length} (${((100 * full) / r.templates.length).toFixed(1)}%), rules loaded ${r.ruleCount}, ${r.seconds.toFixed(1)} s`,
);
console.log(`benign corpus: ${r.benign.total} requests, ${r.benign.blocked.length} blocked`);
for (const b of r.benign.blocked) console.log(`  benign blocked: ${b.id} ${b.status} ${b.request}`);
console.log('\nmisses:');
for (const t of r.templates.filter((x) => !x.fullyBlocked)) {
  const bad = t.steps.filter((s) => (s.expectBlocked ? s.reachedUpstream || s.status === 0 : !s.reachedUpstream));
  console.log(
    `- ${t.name}: ${bad.map((s) => `${s.method} ${s.uri.slice(0, 90)} -> ${s.status}${s.reachedUpstream ? ' (reached upstream)' : ''}${s.expectBlocked ? '' : ' (expected to pass)'}`).join(' | ')}`,
  );
}
