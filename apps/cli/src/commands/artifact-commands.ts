import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { type Artifact, ArtifactClient, type ArtifactDiagnostic, type ArtifactKind, ArtifactRejectedError } from '@palisade/api-client';
import { formatDiagnostic } from '@palisade/diagnostics';
import { nodeTransport, resolveConnection, withApi } from './api-connection.ts';
import { CliError, printJson } from './output.ts';
import { printTable } from './table-output.ts';

type Cmd = Command<any, any, any>;
const json = (cmd: Cmd) => Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);

const WHAT: Record<ArtifactKind, string> = { 'signature-set': 'signature set', 'webrep-feed': 'feed' };
const CLAMAV = new Set(['hdb', 'hsb', 'mdb', 'msb', 'ndb', 'ldb', 'fp', 'sfp', 'ign', 'ign2', 'cvd', 'cld']);

function artifactClient(cmd: Cmd): ArtifactClient {
  const { url, apiKey, caPem } = resolveConnection(cmd.optsWithGlobals());
  return new ArtifactClient({ url, apiKey, transport: nodeTransport(caPem) });
}

/** Format from the file name: ClamAV extensions and .yar/.yara for sets; feeds are detected by the manager. */
function formatOf(kind: ArtifactKind, file: string, given?: string): string | undefined {
  if (given) return given;
  if (kind === 'webrep-feed') return undefined;
  const ext = extname(file).slice(1).toLowerCase();
  if (ext === 'yar' || ext === 'yara') return 'yara';
  return CLAMAV.has(ext) ? ext : undefined;
}

const nameOf = (file: string) =>
  basename(file)
    .replace(/\.gz$/i, '')
    .replace(/\.[^.]+$/, '') || basename(file);

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError('CLI_FILE_NOT_READABLE', `cannot read ${file}: ${(err as Error).message}`, 2);
  }
}

/**
 * A refused upload prints the parser's diagnostics (file:line:col, like a compiler) before the
 * error; with --json one document with all of them.
 */
async function withDiagnostics<T>(cmd: Cmd, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof ArtifactRejectedError && err.diagnostics.length > 0 ? err : undefined;
    if (!e) return withApi(() => Promise.reject(err));
    if (json(cmd)) {
      printJson({ ok: false, code: e.code, message: e.message, diagnostics: e.diagnostics });
      process.exit(1);
    }
    for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d as never)}\n`);
    throw new CliError(e.code, e.message);
  }
}

function listHuman(artifacts: Artifact[]): void {
  if (artifacts.length === 0) {
    process.stdout.write('none\n');
    return;
  }
  printTable(
    artifacts.map((a) => ({
      name: a.name,
      format: a.format,
      version: a.version,
      size: a.size,
      sha256: a.sha256.slice(0, 16),
      refreshed: a.refreshedAt,
      source: a.source,
      error: a.lastError ?? '',
    })),
    ['name', 'format', 'version', 'size', 'sha256', 'refreshed', 'source', 'error'],
  );
}

const warningsOf = (w: ArtifactDiagnostic[]) => w.filter((d) => d.severity !== 'error');

/** The commands of one kind, attached under `parent` (`palisade signatures`, `palisade webrep feeds`, `palisade artifacts <kind>`). */
function kindCommands(parent: Cmd, kind: ArtifactKind): void {
  const what = WHAT[kind];
  parent
    .command('list')
    .description(`${what}s held by the manager`)
    .action(async (_o: unknown, cmd: Cmd) => {
      const { artifacts } = await withApi(() => artifactClient(cmd).list(kind));
      if (json(cmd)) printJson({ artifacts });
      else listHuman(artifacts);
    });
  parent
    .command('show')
    .description(`one ${what}, with the policies and computers that name it`)
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Cmd) => {
      const res = await withApi(() => artifactClient(cmd).get(kind, name));
      if (json(cmd)) printJson(res);
      else {
        const a = res.artifact;
        process.stdout.write(
          `${a.name} (${a.format}) version ${a.version}, ${a.size} bytes\nsha256    ${a.sha256}\nsource    ${a.source}\nupdated   ${a.updatedAt}\nrefreshed ${a.refreshedAt}\n${a.lastError ? `last error: ${a.lastError}\n` : ''}used by   ${res.usedBy.join(', ') || 'nothing'}\n`,
        );
      }
    });
  parent
    .command('upload')
    .description(`upload (or replace) a ${what}; the manager parses it and refuses one that does not parse`)
    .argument('<file>')
    .option('--name <name>', 'name in policies (default: the file name without its extension)')
    .option(
      '--format <format>',
      kind === 'signature-set'
        ? 'hdb hsb mdb msb ndb ldb fp sfp ign ign2 cvd cld yara (default: from the extension)'
        : 'auto (default), urlhaus-csv, hosts, cidr-list, plain-list, palisade-json',
    )
    .option('--description <text>')
    .action(async (file: string, o: { name?: string; format?: string; description?: string }, cmd: Cmd) => {
      const format = formatOf(kind, file, o.format);
      if (kind === 'signature-set' && !format)
        throw new CliError('CLI_BAD_OPTION', `cannot tell the format of ${file} from its extension: pass --format`, 2);
      const name = o.name ?? nameOf(file);
      const res = await withDiagnostics(cmd, () =>
        artifactClient(cmd).upload(kind, name, readBytes(file), {
          ...(format ? { format } : {}),
          ...(o.description !== undefined ? { description: o.description } : {}),
        }),
      );
      if (json(cmd)) return printJson(res);
      for (const d of warningsOf(res.warnings).slice(0, 20)) process.stderr.write(`${formatDiagnostic(d as never)}\n`);
      const a = res.artifact;
      process.stdout.write(
        `${res.created ? 'created' : res.changed ? 'replaced' : 'unchanged (refreshed)'}: ${what} ${a.name} version ${a.version}, ${a.size} bytes, sha256 ${a.sha256}\n`,
      );
    });
  parent
    .command('delete')
    .description(`delete a ${what} (refused while a policy or computer names it)`)
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Cmd) => {
      const res = await withApi(() => artifactClient(cmd).delete(kind, name));
      if (json(cmd)) printJson(res);
      else process.stdout.write(`deleted ${what} ${name}\n`);
    });
  parent
    .command('import-folder')
    .description(
      `import every ${what} file of a folder, all or nothing: a folder on the manager host (admin), or with --local one on this machine`,
    )
    .argument('<path>')
    .option('--local', 'upload the files of a folder on this machine instead')
    .action(async (path: string, o: { local?: boolean }, cmd: Cmd) => {
      const client = artifactClient(cmd);
      if (!o.local) {
        const res = await withDiagnostics(cmd, () => client.importFolder(kind, path));
        if (json(cmd)) return printJson(res);
        for (const i of res.imported)
          process.stdout.write(
            `${i.changed ? 'imported' : 'unchanged'}: ${i.artifact.name} (${i.artifact.format}) sha256 ${i.artifact.sha256}\n`,
          );
        if (res.skipped.length) process.stdout.write(`skipped: ${res.skipped.join(', ')}\n`);
        return;
      }
      const dir = resolve(path);
      let entries: string[];
      try {
        entries = readdirSync(dir).sort();
      } catch (err) {
        throw new CliError('CLI_FILE_NOT_READABLE', `cannot read the folder ${dir}: ${(err as Error).message}`, 2);
      }
      const files = entries
        .filter((f) => !f.startsWith('.') && statSync(join(dir, f)).isFile())
        .map((f) => ({ file: join(dir, f), name: nameOf(f), format: formatOf(kind, f) }))
        .filter((f) => kind === 'webrep-feed' || f.format);
      if (files.length === 0) throw new CliError('CLI_NOTHING_TO_IMPORT', `no ${what} files in ${dir}`);
      // Every file is checked by the manager first; nothing is stored unless all of them pass.
      const problems: ArtifactDiagnostic[] = [];
      for (const f of files) {
        try {
          await client.check(kind, f.name, readBytes(f.file), f.format ? { format: f.format } : {});
        } catch (err) {
          if (!(err instanceof ArtifactRejectedError) || err.status === 401 || err.status === 403)
            return withApi(() => Promise.reject(err));
          problems.push(
            ...(err.diagnostics.length ? err.diagnostics : [{ code: err.code, message: err.message, severity: 'error', file: f.file }]),
          );
        }
      }
      if (problems.length) {
        if (json(cmd)) {
          printJson({ ok: false, code: 'ARTIFACT_INVALID', message: `nothing imported from ${dir}`, diagnostics: problems });
          process.exit(1);
        }
        for (const d of problems) process.stderr.write(`${formatDiagnostic(d as never)}\n`);
        throw new CliError(
          'ARTIFACT_INVALID',
          `nothing imported: ${problems.filter((d) => d.severity === 'error').length} errors in ${dir}`,
        );
      }
      const imported = [];
      for (const f of files)
        imported.push(
          await withDiagnostics(cmd, () => client.upload(kind, f.name, readBytes(f.file), f.format ? { format: f.format } : {})),
        );
      if (json(cmd)) return printJson({ imported, skipped: entries.filter((e) => !files.some((f) => basename(f.file) === e)) });
      for (const i of imported)
        process.stdout.write(
          `${i.changed ? 'imported' : 'unchanged'}: ${i.artifact.name} (${i.artifact.format}) sha256 ${i.artifact.sha256}\n`,
        );
    });
  parent
    .command('download')
    .description(`download a ${what} from a URL now and on a schedule (the manager needs internet access for it)`)
    .argument('<name>')
    .requiredOption('--from <url>', 'http(s) URL of the file')
    .option('--cron <expr>', 'when to download again (default: 17 */6 * * *, every six hours)')
    .option('--timezone <tz>', 'time zone of the cron expression (default UTC)')
    .option('--format <format>', 'format of the file (signature sets: required; feeds: auto)')
    .action(async (name: string, o: { from: string; cron?: string; timezone?: string; format?: string }, cmd: Cmd) => {
      const format = o.format ?? formatOf(kind, new URL(o.from).pathname);
      const res = await withApi(() =>
        artifactClient(cmd).scheduleDownload(kind, name, {
          url: o.from,
          ...(o.cron ? { cron: o.cron } : {}),
          ...(o.timezone ? { timezone: o.timezone } : {}),
          ...(format ? { format } : {}),
        }),
      );
      if (json(cmd)) printJson(res);
      else
        process.stdout.write(`${what} ${name}: downloading from ${res.url} now and at "${res.cron}" (next ${res.nextRunAt ?? 'never'})\n`);
    });
  parent
    .command('no-download')
    .description(`stop the periodic download of a ${what} (the stored version stays)`)
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Cmd) => {
      const res = await withApi(() => artifactClient(cmd).unscheduleDownload(kind, name));
      if (json(cmd)) printJson(res);
      else process.stdout.write(`${what} ${name}: no longer downloaded\n`);
    });
}

function findOrAdd(parent: Cmd, name: string, description: string): Cmd {
  return (parent.commands.find((c) => c.name() === name) as Cmd | undefined) ?? parent.command(name).description(description);
}

/**
 * `palisade signatures …`, `palisade webrep feeds …` and `palisade artifacts signature-sets|feeds …`:
 * one set of commands over the manager's artifact store (ADR 0007).
 */
export function registerArtifactCommands(program: Command): void {
  const p = program as unknown as Cmd;
  kindCommands(findOrAdd(p, 'signatures', 'signature sets held by the manager and delivered to agents'), 'signature-set');
  const webrep = findOrAdd(p, 'webrep', 'web reputation');
  kindCommands(findOrAdd(webrep, 'feeds', 'web-reputation feeds held by the manager and delivered to agents'), 'webrep-feed');
  const artifacts = findOrAdd(p, 'artifacts', 'signature sets and feeds held by the manager');
  kindCommands(findOrAdd(artifacts, 'signature-sets', 'signature sets'), 'signature-set');
  kindCommands(findOrAdd(artifacts, 'feeds', 'web-reputation feeds'), 'webrep-feed');
}
