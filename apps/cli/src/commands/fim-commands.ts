import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { formatDiagnostic } from '@palisade/diagnostics';
import type { Change, IntegrityRuleSet } from '@palisade/integrity';
import type { FimScanResult } from '@palisade/agent/fim';
import { registerFimRemoteCommands } from './fim-remote-commands.ts';
import { CliError, printJson } from './output.ts';

/**
 * The engine, the scanner (better-sqlite3, workers) and the progress bar load only when a fim
 * command runs, so they add nothing to the start-up of every other `palisade` command.
 */
const integrity = () => import('@palisade/integrity');
const scanner = () => import('@palisade/agent/fim');

/** Exit status of `fim check` when changes were found, like `aide --check` signalling differences. */
const EXIT_CHANGES = 4;

async function loadRules(file: string): Promise<{ rules: IntegrityRuleSet; sha256: string }> {
  const { loadIntegrityRules } = await integrity();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError('FIM_RULES_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`);
  }
  const result = loadIntegrityRules(text, file);
  for (const d of result.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!result.ok) throw new CliError('FIM_RULES_INVALID', `${file} has errors; nothing was scanned`);
  return { rules: result.value, sha256: createHash('sha256').update(text).digest('hex') };
}

/** A progress bar on stderr, only on a terminal, so pipes and --json output stay clean. */
async function scanWithProgress(rules: IntegrityRuleSet, root: string, previous?: FimScanResult['entities']): Promise<FimScanResult> {
  const { runFimScan } = await scanner();
  if (!process.stderr.isTTY) return runFimScan(rules, { root, previous });
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} [{bar}] {value}/{total} {unit}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let phase = 'walk';
  bar.start(0, 0, { phase: 'walking', unit: 'entries' });
  try {
    return await runFimScan(rules, {
      root,
      previous,
      onWalk: (n) => {
        if (n % 500 === 0) {
          bar.setTotal(n);
          bar.update(n);
        }
      },
      onHash: (files, bytes, totalFiles, totalBytes) => {
        if (phase === 'walk') {
          phase = 'hash';
          bar.setTotal(Math.max(1, Math.round(totalBytes / 1048576)));
        }
        bar.update(Math.round(bytes / 1048576), { phase: `hashing ${files}/${totalFiles} files`, unit: 'MiB' });
      },
    });
  } finally {
    bar.stop();
  }
}

function reportIssues(result: FimScanResult, json: boolean): void {
  if (json) return;
  for (const i of result.issues.slice(0, 50)) process.stderr.write(`warning ${i.kind} ${i.path}: ${i.code} ${i.message}\n`);
  if (result.issues.length > 50) process.stderr.write(`... ${result.issues.length - 50} more issues\n`);
}

/** Modes in octal and times as dates, the way people read them in `ls -l` and `stat`. */
function show(name: string, v: unknown): string {
  if (name === 'mode' && typeof v === 'number') return `0${v.toString(8)}`;
  if ((name === 'mtime' || name === 'ctime') && typeof v === 'number') return new Date(v).toISOString();
  return JSON.stringify(v);
}

function describe(c: Change): string {
  const head = `${c.severity.toUpperCase().padEnd(8)} ${c.change.padEnd(7)} ${c.kind} ${c.from ? `${c.from} -> ` : ''}${c.key} [${c.rule}]`;
  const flags = c.flags.length ? ` {${c.flags.join(',')}}` : '';
  const attrs = c.attributes.map((a) => `\n    ${a.name}: ${show(a.name, a.before)} -> ${show(a.name, a.after)}`).join('');
  return head + flags + attrs;
}

/** The root program may define its own --json; commander then hands the flag to the root. */
function wantsJson(opts: { json?: boolean }, cmd: { optsWithGlobals(): unknown }): boolean {
  return Boolean(opts.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json);
}

export function registerFimCommands(program: Command): void {
  const fim = program
    .command('fim')
    .description(
      'integrity monitoring: baselines and change detection, offline (baseline, check) and on managed computers (scan, rebuild-baseline, accept, status)',
    );
  registerFimRemoteCommands(fim);

  fim
    .command('baseline')
    .description('scan the tree and store a new baseline')
    .requiredOption('--rules <file>', 'integrity rules (YAML)')
    .requiredOption('--db <file>', 'baseline database (SQLite)')
    .option('--root <dir>', 'prefix on disk for the rule paths', '/')
    .option('--json', 'print a JSON summary')
    .action(async (opts, cmd) => {
      const json = wantsJson(opts, cmd);
      const { rules, sha256 } = await loadRules(opts.rules);
      const { BaselineStore } = await scanner();
      const root = resolve(opts.root);
      const started = performance.now();
      const cpu0 = process.cpuUsage();
      const result = await scanWithProgress(rules, root);
      const store = new BaselineStore(opts.db);
      try {
        store.save(result.entities, { createdAt: new Date().toISOString(), root, rulesSha256: sha256, entities: result.entities.length });
      } finally {
        store.close();
      }
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpu0);
      reportIssues(result, json);
      const summary = {
        ...result.stats,
        issues: result.issues.length,
        seconds: Number(seconds.toFixed(3)),
        cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
      };
      if (json) printJson({ ...summary, issueList: result.issues });
      else
        process.stdout.write(
          `baseline: ${summary.entities} entities (${summary.files} files, ${summary.hashed} hashed, ${(summary.bytesHashed / 1048576).toFixed(1)} MiB) in ${summary.seconds}s, ${summary.issues} issues\n`,
        );
    });

  fim
    .command('check')
    .description('scan the tree and report changes against the baseline')
    .requiredOption('--rules <file>', 'integrity rules (YAML)')
    .requiredOption('--db <file>', 'baseline database (SQLite)')
    .option('--root <dir>', "prefix on disk for the rule paths (default: the baseline's)")
    .option('--json', 'print changes as JSON')
    .option('--update', 'accept the changes: store the new scan as the baseline')
    .action(async (opts, cmd) => {
      const json = wantsJson(opts, cmd);
      const { rules, sha256 } = await loadRules(opts.rules);
      const { BaselineStore } = await scanner();
      const { diffEntities, summarizeChanges } = await integrity();
      if (!existsSync(opts.db))
        throw new CliError('FIM_BASELINE_MISSING', `no baseline at ${opts.db}; run \`palisade fim baseline\` first`);
      const store = new BaselineStore(opts.db);
      try {
        const meta = store.meta();
        if (!meta) throw new CliError('FIM_BASELINE_MISSING', `${opts.db} holds no baseline`);
        const root = resolve(opts.root ?? meta.root);
        const started = performance.now();
        const cpu0 = process.cpuUsage();
        const previous = store.load();
        const result = await scanWithProgress(rules, root, previous);
        const changes = diffEntities(previous, result.entities, rules);
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpu0);
        if (opts.update)
          store.save(result.entities, { createdAt: new Date().toISOString(), root, rulesSha256: sha256, entities: result.entities.length });
        reportIssues(result, json);
        const summary = summarizeChanges(changes);
        if (json) {
          printJson({
            summary,
            changes,
            issues: result.issues,
            stats: { ...result.stats, seconds: Number(seconds.toFixed(3)), cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)) },
            rulesChanged: meta.rulesSha256 !== sha256,
          });
        } else {
          for (const c of changes) process.stdout.write(`${describe(c)}\n`);
          process.stdout.write(
            `${changes.length} changes (${summary.created} created, ${summary.updated} updated, ${summary.deleted} deleted, ${summary.renamed} renamed) in ${seconds.toFixed(2)}s; ${result.stats.hashed} files hashed, ${result.stats.reused} unchanged\n`,
          );
          if (meta.rulesSha256 !== sha256) process.stderr.write('note: the rules differ from those used for the baseline\n');
        }
        if (changes.length) process.exitCode = EXIT_CHANGES;
      } finally {
        store.close();
      }
    });
}
