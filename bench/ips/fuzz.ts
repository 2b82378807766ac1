// Long fuzz run: npm run fuzz:ips [-- --count N] [-- --seed S] [-- --re2]
// Full CRS at paranoia level 4 (every rule runs), request and response phases.
import { loadCrsRuleSet } from './crs-disk.ts';
import { runFuzz } from './fuzz-run.ts';

const args = process.argv.slice(2);
const arg = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const count = arg('--count', 20000);
const seed = arg('--seed', 1);
const engine = args.includes('--re2') ? 're2' : args.includes('--js') ? 'js' : 'auto';
const ruleSet = loadCrsRuleSet('SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=4"\n', engine);
const t0 = performance.now();
const r = runFuzz(ruleSet, seed, count);
console.log(JSON.stringify({ engine, count, seed, seconds: Math.round((performance.now() - t0) / 100) / 10, maxMs: Math.round(r.maxMs * 10) / 10, errors: r.errors.slice(0, 5), errorCount: r.errors.length, slow: r.slow.slice(0, 20), slowCount: r.slow.length }, null, 2));
if (r.errors.length || r.slow.length) process.exitCode = 1;
