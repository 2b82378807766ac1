import type { Command } from '@commander-js/extra-typings';
import { formatDiagnostic } from '@palisade/diagnostics';
import type { SecurityLevel, Verdict } from '@palisade/web-reputation';
import { CliError, printJson } from './output.ts';

const LEVELS: readonly SecurityLevel[] = ['high', 'medium', 'low'];

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerWebrepCommands(program: Command): void {
  const webrep = program.command('webrep').description('web reputation: rate URLs and domains against blocklist feeds, offline');

  webrep
    .command('check')
    .description('one verdict per URL against the given feeds (format detected from content)')
    .argument('<url...>', 'URLs, hosts or IP addresses')
    .option(
      '--feed <file>',
      'block feed: URLhaus CSV, hosts, domain/URL list, CIDR list or Palisade JSON (repeatable)',
      collect,
      [] as string[],
    )
    .option('--allow <file>', 'allow list in any feed format; allow beats block (repeatable)', collect, [] as string[])
    .option('--level <level>', 'security level: high, medium or low', 'medium')
    .option('--block-untested', 'also block what no feed rates')
    .option('--json', 'print the verdicts as a JSON array')
    .action(async (urls, opts, cmd) => {
      // Loaded on use (tldts and the feed parsers), so other commands do not pay for them.
      const { ReputationStore } = await import('@palisade/web-reputation');
      const { loadFeedFiles } = await import('@palisade/agent/webrep');
      // The root program may define its own --json; commander then hands the flag to the root.
      const json = Boolean(opts.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json);
      const level = opts.level.toLowerCase() as SecurityLevel;
      if (!LEVELS.includes(level)) throw new CliError('WEBREP_LEVEL_INVALID', `--level must be one of ${LEVELS.join(', ')}`);
      const store = new ReputationStore();
      const results = [...loadFeedFiles(store, opts.feed), ...loadFeedFiles(store, opts.allow, { list: 'allow' })];
      let failed = 0;
      for (const r of results) {
        for (const d of r.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
        if (!r.applied) failed++;
      }
      if (failed) throw new CliError('WEBREP_FEED_UNUSABLE', `${failed} feed(s) could not be loaded; no verdict given`);
      const policy = { level, blockUntested: Boolean(opts.blockUntested) };
      const verdicts: Verdict[] = urls.map((u) => {
        const v = store.evaluate(u, policy);
        return { url: v.url, action: v.action, risk: v.risk, category: v.category, feed: v.feed };
      });
      if (json) printJson(verdicts);
      else {
        for (const v of verdicts) {
          process.stdout.write(
            `${v.action.toUpperCase().padEnd(6)} ${v.risk.padEnd(17)} ${(v.category ?? '-').padEnd(12)} ${(v.feed ?? '-').padEnd(16)} ${v.url}\n`,
          );
        }
      }
    });
}
