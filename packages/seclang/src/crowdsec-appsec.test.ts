import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic } from '@palisade/diagnostics';
import { parse } from 'yaml';
import { crsDir, listFiles, readFileOrUndefined, sharedDir } from '../../../bench/ips/crs-disk.ts';
import { type AppSecDocument, loadAppSecRules } from './crowdsec-appsec.ts';
import { Transaction } from './transaction.ts';

const rulesDir = join(sharedDir, 'crowdsec-hub-appsec', 'appsec-rules');
const skip = !existsSync(rulesDir) && 'CrowdSec hub not found';
const docs = (): AppSecDocument[] => (existsSync(rulesDir) ? listFiles(rulesDir, /\.ya?ml$/).map((f) => ({ file: f, doc: parse(readFileSync(f, 'utf8')) })) : []);

// CrowdSec keeps CRS flat in its data dir (crs-setup.conf next to REQUEST-*.conf); map that
// layout onto the CRS checkout.
const crowdsecDataDir = '/var/lib/crowdsec/data';
function readCrowdsecData(p: string): string | undefined {
  if (!p.startsWith(`${crowdsecDataDir}/`)) return undefined;
  const name = basename(p);
  return readFileOrUndefined(name === 'crs-setup.conf' ? join(crsDir, 'crs-setup.conf.example') : join(crsDir, 'rules', name));
}

test('every CrowdSec AppSec rule file loads; the only refusal is CRS without its data dir', { skip }, () => {
  const refused: string[] = [];
  for (const d of docs()) {
    const r = loadAppSecRules([d]);
    if (r.ok) continue;
    refused.push(basename(d.file));
    // The one documented refusal: seclang_files_rules needs CrowdSec's data dir.
    assert.ok(r.diagnostics.every((x) => x.code === 'SECLANG_APPSEC_FILES_UNAVAILABLE'), r.diagnostics.map(formatDiagnostic).join('\n'));
  }
  assert.deepEqual(refused, ['crs.yaml']);
});

test('crs.yaml loads when its data dir is provided, and all virtual patches load together', { skip }, () => {
  const all = docs();
  const crs = all.find((d) => basename(d.file) === 'crs.yaml')!;
  const r = loadAppSecRules([crs], { seclangFilesDir: crowdsecDataDir, readFile: readCrowdsecData, glob: () => [] });
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.slice(0, 5).map(formatDiagnostic).join('\n'));
  assert.ok(r.value.ruleCount > 600);
  const together = loadAppSecRules(all.filter((d) => d !== crs));
  assert.ok(together.ok, together.ok ? '' : together.diagnostics.slice(0, 5).map(formatDiagnostic).join('\n'));
  assert.ok(together.value.ruleCount >= 200);
});

test('a compiled virtual patch blocks its exploit and lets normal traffic through', () => {
  const doc = {
    name: 'test/vpatch-ofbiz',
    rules: [
      {
        and: [
          { zones: ['METHOD'], match: { type: 'regex', value: '(GET|POST)' } },
          { zones: ['URI'], transform: ['lowercase'], match: { type: 'regex', value: '/webtools/control/(main|view)/programexport' } },
          { or: [
            { zones: ['BODY_ARGS', 'ARGS'], variables: ['groovyProgram'], transform: ['count'], match: { type: 'gte', value: 1 } },
            { zones: ['HEADERS'], variables: ['X-Evil'], match: { type: 'libinjectionSQL', value: null } },
          ] },
        ],
      },
    ],
  };
  const r = loadAppSecRules([{ file: 'ofbiz.yaml', doc }]);
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.equal(r.value.ruleCount, 2);
  const send = (uri: string, headers: [string, string][] = []) => {
    const tx = new Transaction(r.value);
    tx.processUri(uri, 'GET');
    for (const [k, v] of headers) tx.addRequestHeader(k, v);
    tx.processRequestHeaders();
    tx.processRequestBody();
    return tx.interruption;
  };
  assert.equal(send('/webtools/control/MAIN/ProgramExport?groovyProgram=x')?.status, 403);
  assert.equal(send('/webtools/control/main/ProgramExport', [['X-Evil', "1' or '1'='1"]])?.status, 403);
  assert.equal(send('/webtools/control/main/ProgramExport?other=x'), null);
  assert.equal(send('/shop?groovyProgram=x'), null);
});

test('malformed AppSec rules are refused with the file named', () => {
  const r = loadAppSecRules([{ file: 'bad.yaml', doc: { name: 'x', rules: [{ zones: ['NOWHERE'], match: { type: 'regex', value: 'a' } }, { and: [{ zones: ['URI'], match: { type: 'fuzzy', value: 'a' } }] }] } }]);
  assert.equal(r.ok, false);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.file]), [['SECLANG_APPSEC_INVALID', 'bad.yaml'], ['SECLANG_APPSEC_INVALID', 'bad.yaml']]);
  const re = loadAppSecRules([{ file: 'bt.yaml', doc: { name: 'y', rules: [{ zones: ['URI'], match: { type: 'regex', value: '(a)\\1' } }] } }]);
  assert.equal(re.ok, false, 'backreferences are refused by the linear-time engine');
});
