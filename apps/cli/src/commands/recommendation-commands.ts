import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { parseStoreLocation, StoreProvider } from '@palisade/manager';
import { loadOsvBytes } from '@palisade/vuln';
import cliProgress from 'cli-progress';
import { clientFrom, withApi } from './api-connection.ts';
import { downloadToFile } from './download-to-file.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';
import { osvFiles } from './vuln-commands.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);

interface Vuln {
  advisoryId: string;
  aliases: string[];
  severity?: string;
  package: { name: string; version: string; location: string };
  fixedVersion?: string;
  shieldedBy: string[];
}
interface Scan {
  mode: string;
  applied: boolean;
  recommended: Array<{ module: string; ruleId: string; title: string }>;
  diff: {
    assign: Array<{ module: string; ruleId: string; title: string }>;
    unassign: Array<{ module: string; ruleId: string; reason: string }>;
  };
}

function printScan(scan: Scan): void {
  process.stdout.write(`mode ${scan.mode}; ${scan.applied ? 'applied' : 'not applied'}; ${scan.recommended.length} rule(s) recommended\n`);
  for (const r of scan.diff.assign) process.stdout.write(`  + ${r.module}/${r.ruleId}  ${r.title}\n`);
  for (const r of scan.diff.unassign) process.stdout.write(`  - ${r.module}/${r.ruleId}  (${r.reason})\n`);
  if (!scan.diff.assign.length && !scan.diff.unassign.length) process.stdout.write('  no change\n');
}

/**
 * `vuln import` (bulk, straight into the manager's database), `vuln list --computer`, and
 * `recommendations show|apply` over the API.
 */
export function registerRecommendationCommands(program: Command): void {
  // `vuln` is created by the offline vuln commands; these subcommands join it.
  const existing = program.commands.find((c) => c.name() === 'vuln') as unknown as Command | undefined;
  const vuln = existing ?? program.command('vuln').description('vulnerability data');
  vuln
    .command('import [paths...]')
    .description(
      "Import OSV data (JSON files, folders, all.zip archives, or --download URLs) into the manager's database; incremental by `modified`",
    )
    .option('--data-dir <dir>', "the manager's data directory (SQLite)", process.env.PALISADE_MANAGER_DATA_DIR ?? 'data')
    .option('--db <db>', '"sqlite" or the postgres:// URL the manager uses', process.env.PALISADE_DB ?? 'sqlite')
    .option(
      '--download <url...>',
      'download and import (where the deployment has internet), e.g. https://osv-vulnerabilities.storage.googleapis.com/Maven/all.zip',
    )
    .action(async (paths, opts, cmd) => {
      const urls = opts.download ?? [];
      if (paths.length === 0 && urls.length === 0) throw new CliError('CLI_BAD_OPTION', 'give paths to import, or --download URL', 2);
      // Downloads finish before the database is opened: a broken transfer imports nothing.
      const tmp = urls.length ? await mkdtemp(join(tmpdir(), 'palisade-osv-')) : undefined;
      const sourceOf = new Map<string, string>();
      try {
        for (const url of urls) {
          const d = await downloadToFile(url, await mkdtemp(join(tmp!, 'u-')));
          if (!json(cmd)) process.stderr.write(`downloaded ${url} (${d.bytes} bytes, sha256 ${d.sha256})\n`);
          sourceOf.set(d.file, url);
        }
        await importFiles([...(await osvFiles(paths)), ...sourceOf.keys()]);
      } finally {
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }

      async function importFiles(files: string[]): Promise<void> {
        const stores = await StoreProvider.open(parseStoreLocation(opts.db, resolve(opts.dataDir)));
        try {
          const bar =
            process.stderr.isTTY && !json(cmd)
              ? new cliProgress.SingleBar({ format: 'import [{bar}] {value}/{total} files', clearOnComplete: true })
              : undefined;
          bar?.start(files.length, 0);
          const results = [];
          for (const file of files) {
            const source = sourceOf.get(file) ?? file;
            const loaded = loadOsvBytes(new Uint8Array(await readFile(file)), source);
            const diags = loaded.diagnostics.map((d) => ({ code: d.code, message: d.message, ...(d.file ? { file: d.file } : {}) }));
            results.push(await stores.vulnData.import(source, loaded.records, diags, loaded.skipped));
            bar?.increment();
          }
          bar?.stop();
          const total = results.reduce(
            (t, r) => ({
              added: t.added + r.added,
              updated: t.updated + r.updated,
              unchanged: t.unchanged + r.unchanged,
              skipped: t.skipped + r.skipped,
            }),
            { added: 0, updated: 0, unchanged: 0, skipped: 0 },
          );
          if (json(cmd)) printJson({ files: results.length, ...total, imports: results });
          else {
            process.stdout.write(
              `${results.length} file(s): ${total.added} added, ${total.updated} updated, ${total.unchanged} unchanged, ${total.skipped} skipped\n`,
            );
            for (const r of results)
              for (const d of r.diagnostics) process.stderr.write(`${d.file ?? r.source}: ${d.code}: ${d.message}\n`);
          }
        } finally {
          await stores.close();
        }
      }
    });
  vuln
    .command('list')
    .description("A computer's vulnerabilities from its latest recommendation scan")
    .requiredOption('--computer <id>', 'computer id')
    .action(async (opts, cmd) => {
      const res = await withApi(() =>
        clientFrom(cmd).request<{ scannedAt: string | null; vulnerabilities: Vuln[] }>(
          'GET',
          `/api/v1/computers/${encodeURIComponent(opts.computer)}/vulnerabilities`,
        ),
      );
      if (json(cmd)) return printJson(res);
      if (!res.scannedAt) process.stdout.write('no recommendation scan has run for this computer yet\n');
      printTable(
        res.vulnerabilities.map((v) => ({
          advisory: v.advisoryId,
          cves: v.aliases.filter((a) => a.startsWith('CVE-')).join(' '),
          severity: v.severity,
          package: v.package.name,
          version: v.package.version,
          fixed: v.fixedVersion,
          shieldedBy: v.shieldedBy.join(' '),
        })),
        ['advisory', 'cves', 'severity', 'package', 'version', 'fixed', 'shieldedBy'],
      );
    });

  const recs = program.command('recommendations').description('Recommendation scans: which rules a computer needs');
  recs
    .command('show <computer>')
    .description('The latest scan, or with --dry-run a fresh scan whose diff is shown but not applied')
    .option('--dry-run', 'scan now without storing or applying')
    .action(async (computer, opts, cmd) => {
      const client = clientFrom(cmd);
      const id = encodeURIComponent(computer);
      if (opts.dryRun) {
        const scan = await withApi(() =>
          client.request<Scan>('POST', `/api/v1/computers/${id}/recommendations/scan`, { body: { dryRun: true } }),
        );
        return json(cmd) ? printJson(scan) : printScan(scan);
      }
      const res = await withApi(() =>
        client.request<{ assigned: Array<{ module: string; ruleId: string; source: string }>; scan: Scan | null }>(
          'GET',
          `/api/v1/computers/${id}/recommendations`,
        ),
      );
      if (json(cmd)) return printJson(res);
      process.stdout.write(`assigned: ${res.assigned.map((a) => `${a.module}/${a.ruleId} (${a.source})`).join(', ') || 'none'}\n`);
      if (res.scan) printScan(res.scan);
      else process.stdout.write('no scan yet: run with --dry-run, or wait for the agent to report its inventory\n');
    });
  recs
    .command('apply <computer>')
    .description('Scan now and apply the diff, whatever the policy mode')
    .action(async (computer, _opts, cmd) => {
      const scan = await withApi(() =>
        clientFrom(cmd).request<Scan>('POST', `/api/v1/computers/${encodeURIComponent(computer)}/recommendations/apply`),
      );
      if (json(cmd)) printJson(scan);
      else printScan(scan);
    });
  recs
    .command('scan')
    .description('Queue a recommendation scan of every computer in a smart folder and wait for it')
    .requiredOption('--smart-folder <id>', 'the smart folder whose computers are scanned')
    .option('--no-wait', 'print the queued job and return')
    .option('--timeout <seconds>', 'how long to wait for the job', '600')
    .action(async (opts, cmd) => {
      const client = clientFrom(cmd);
      let job = await withApi(() => client.scanSmartFolderRecommendations(opts.smartFolder));
      const deadline = Date.now() + Number(opts.timeout) * 1000;
      while (opts.wait && (job.status === 'queued' || job.status === 'running') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        const id = job.id;
        job = await withApi(() => client.getJob(id));
      }
      if (json(cmd)) printJson(job);
      else if (job.status === 'succeeded') {
        const r = job.result as { scanned: number; skipped: number; assigned: number; unassigned: number };
        process.stdout.write(
          `scanned ${r.scanned} computers (${r.skipped} skipped: policy off); assigned ${r.assigned}, unassigned ${r.unassigned} rules\n`,
        );
      } else process.stdout.write(`job ${job.id}: ${job.status}${job.error ? `: ${job.error}` : ''}\n`);
      if (job.status === 'failed') throw new CliError('RECOMMENDATION_SCAN_FAILED', job.error ?? 'the scan job failed');
    });
}
