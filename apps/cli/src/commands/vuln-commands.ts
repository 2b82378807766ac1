import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { type Diagnostic, formatDiagnostic } from '@palisade/diagnostics';
import { AdvisoryIndex, comparatorFor, type Finding, type Inventory, type InventoryItem, loadOsvBytes, matchInventory, supportedEcosystems } from '@palisade/vuln';
import { CliError, printJson } from './output.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `--json` may land on the root program (it defines a global one) or on the subcommand. */
function wantsJson(opts: { json?: boolean }, cmd: { optsWithGlobals(): unknown }): boolean {
  return Boolean(opts.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json);
}

type CollectInventory = (opts: { root?: string; appDirs?: string[]; goBinaries?: boolean }) => Promise<Inventory>;

/** The collector lives in the agent (it does the file I/O); loaded only by `inventory collect`. */
async function agentCollector(): Promise<CollectInventory> {
  return (await import('@palisade/agent/inventory')).collectInventory as CollectInventory;
}

/** Expands OSV paths: files as given (JSON or zip), folders recursively (*.json, *.zip). */
export async function osvFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      throw new CliError('VULN_OSV_PATH', `${p}: ${(e as Error).message}`, 2);
    }
    if (st.isDirectory()) {
      for (const name of (await readdir(p)).sort()) {
        const child = path.join(p, name);
        const cst = await stat(child);
        if (cst.isDirectory() || /\.(json|zip)$/i.test(name)) await walk(child);
      }
    } else out.push(p);
  };
  for (const p of paths) await walk(p);
  return out;
}

function readInventory(text: string, file: string): InventoryItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError('VULN_INVENTORY_FILE', `${file}: not valid JSON: ${(e as Error).message}`, 2);
  }
  const items = Array.isArray(doc) ? doc : (doc as { items?: unknown })?.items;
  if (!Array.isArray(items)) throw new CliError('VULN_INVENTORY_FILE', `${file}: expected {"items": [...]} or an array of items`, 2);
  const bad = items.findIndex(
    (i) => !i || typeof i.ecosystem !== 'string' || typeof i.name !== 'string' || typeof i.version !== 'string',
  );
  if (bad >= 0) throw new CliError('VULN_INVENTORY_FILE', `${file}: item ${bad} lacks ecosystem, name or version`, 2);
  return items.map((i: InventoryItem) => ({ ...i, purl: i.purl ?? '', location: i.location ?? file }));
}

function diagnosticSummary(diagnostics: Diagnostic[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const d of diagnostics) counts[d.code] = (counts[d.code] ?? 0) + 1;
  return counts;
}

function findingJson(f: Finding) {
  return {
    id: f.advisory.id,
    aliases: f.advisory.aliases,
    summary: f.advisory.summary,
    severity: f.severity,
    severityScore: f.severityScore ?? null,
    severityLabel: f.severityLabel ?? null,
    package: { ecosystem: f.item.ecosystem, name: f.item.name, version: f.item.version, purl: f.item.purl, location: f.item.location },
    matched: { name: f.matchedName, version: f.matchedVersion, ecosystem: f.advisoryEcosystem, by: f.matchedBy },
    fixedVersion: f.fixedVersion ?? null,
    source: f.advisory.source,
  };
}

/** `palisade inventory collect` and `palisade vuln match`: offline inventory and OSV matching. */
export function registerVulnCommands(program: Command): void {
  const inventory = program.command('inventory').description('software inventory of a host or directory tree');
  inventory
    .command('collect')
    .description('inventory OS packages, language packages, Java archives and listening ports')
    .option('--root <dir>', 'filesystem root to inventory', '/')
    .option('--app-dir <dir>', 'application folder relative to the root (repeatable; "." = whole root)', collect, [] as string[])
    .option('--no-go', 'do not read Go build info from executables')
    .option('--json', 'print the inventory as one JSON document')
    .action(async (o, cmd) => {
      const json = wantsJson(o, cmd);
      const collectInventory = await agentCollector();
      const inv = await collectInventory({ root: o.root, appDirs: o.appDir.length ? o.appDir : undefined, goBinaries: o.go });
      if (json) {
        printJson(inv);
        return;
      }
      for (const d of inv.diagnostics.filter((x) => x.severity === 'error')) process.stderr.write(`${formatDiagnostic(d)}\n`);
      for (const [code, n] of Object.entries(diagnosticSummary(inv.diagnostics.filter((x) => x.severity === 'warning')))) {
        process.stderr.write(`warning ${code}: ${n} time(s) (see --json)\n`);
      }
      const byEco: Record<string, number> = {};
      for (const i of inv.items) byEco[i.ecosystem] = (byEco[i.ecosystem] ?? 0) + 1;
      process.stdout.write(`os: ${inv.os?.prettyName ?? inv.os?.id ?? 'unknown'}${inv.os?.ecosystem ? ` (${inv.os.ecosystem})` : ''}\n`);
      for (const [eco, n] of Object.entries(byEco).sort()) process.stdout.write(`${eco}: ${n} package(s)\n`);
      process.stdout.write(`listening ports: ${inv.ports.map((p) => `${p.protocol}/${p.port}`).join(' ') || 'none read'}\n`);
    });

  const vuln = program.command('vuln').description('vulnerability matching against OSV data');
  vuln
    .command('compare')
    .description('order two versions the way matching does (prints <, = or >)')
    .argument('<ecosystem>', 'OSV ecosystem, e.g. Debian:12, npm, PyPI, Maven')
    .argument('<a>')
    .argument('<b>')
    .action((ecosystem, a, b) => {
      const cmp = comparatorFor(ecosystem);
      if (!cmp) throw new CliError('VULN_UNKNOWN_ECOSYSTEM', `no version ordering for "${ecosystem}"; known: ${supportedEcosystems().join(', ')}`, 2);
      const d = cmp(a, b);
      process.stdout.write(`${a} ${d < 0 ? '<' : d > 0 ? '>' : '='} ${b}\n`);
    });
  vuln
    .command('match')
    .description('match an inventory (from `inventory collect --json`) against OSV advisories, offline')
    .requiredOption('--inventory <file>', 'inventory JSON file')
    .requiredOption('--osv <path...>', 'OSV JSON files, folders (searched recursively) or all.zip archives')
    .option('--any-release', 'when an item has no distribution release, match advisories of every release')
    .option('--exit-code', 'exit with status 1 when anything matches')
    .option('--json', 'print one JSON document')
    .action(async (o, cmd) => {
      const json = wantsJson(o, cmd);
      let invText: string;
      try {
        invText = await readFile(o.inventory, 'utf8');
      } catch (e) {
        throw new CliError('VULN_INVENTORY_FILE', `${o.inventory}: ${(e as Error).message}`, 2);
      }
      const items = readInventory(invText, o.inventory);
      const index = new AdvisoryIndex();
      const diagnostics: Diagnostic[] = [];
      let skipped = 0;
      const t0 = performance.now();
      for (const file of await osvFiles(o.osv)) {
        const loaded = loadOsvBytes(await readFile(file), file);
        skipped += loaded.skipped;
        diagnostics.push(...loaded.diagnostics);
        for (const r of loaded.records) diagnostics.push(...index.add(r, file));
      }
      const t1 = performance.now();
      const findings = matchInventory(index, items, { anyReleaseWhenUnknown: o.anyRelease ?? false });
      const t2 = performance.now();
      findings.sort((a, b) => a.item.name.localeCompare(b.item.name) || a.advisory.id.localeCompare(b.advisory.id));
      const stats = {
        packages: items.length,
        advisories: index.size,
        skippedRecords: skipped,
        ignoredGitRanges: index.stats.ignoredGitRanges,
        loadMs: Math.round(t1 - t0),
        matchMs: Math.round((t2 - t1) * 10) / 10,
      };
      if (json) {
        printJson({ findings: findings.map(findingJson), stats, diagnostics });
      } else {
        for (const d of diagnostics.filter((x) => x.severity === 'error')) process.stderr.write(`${formatDiagnostic(d)}\n`);
        const warnings = diagnosticSummary(diagnostics.filter((x) => x.severity === 'warning'));
        for (const [code, n] of Object.entries(warnings)) process.stderr.write(`warning ${code}: ${n} time(s) (see --json)\n`);
        for (const f of findings) {
          const cves = f.advisory.aliases.filter((a) => a.startsWith('CVE-'));
          process.stdout.write(
            `${f.advisory.id}${cves.length ? ` (${cves.join(', ')})` : ''}${f.severityLabel ? ` ${f.severityLabel}${f.severityScore !== undefined ? ` ${f.severityScore}` : ''}` : ''}` +
              `  ${f.item.ecosystem} ${f.item.name} ${f.item.version}` +
              `${f.fixedVersion ? ` -> fixed in ${f.fixedVersion}` : ''}  at ${f.item.location}\n`,
          );
        }
        process.stdout.write(
          `${findings.length} finding(s) in ${stats.packages} package(s) against ${stats.advisories} advisories` +
            `${skipped ? `, ${skipped} unreadable record(s) skipped` : ''}\n`,
        );
      }
      if (o.exitCode && findings.length > 0) process.exitCode = 1;
    });
}
