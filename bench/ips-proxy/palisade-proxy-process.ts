import { readFileSync } from 'node:fs';
import { silentLogger } from '../../apps/agent/src/agent-logger.ts';
import { IpsModule } from '../../apps/agent/src/modules/ips/ips-module.ts';

/**
 * One Palisade IPS module in its own process, for the benchmark and the transparent-mode test
 * (which runs it inside a network namespace): argv = settings JSON path [, mode]. Every event is
 * printed to stdout as one JSON line.
 */
const settings = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, unknown>;
const mode = (process.argv[3] ?? 'prevent') as 'detect' | 'prevent';
const config = { enabled: true, mode, settings };
const m = new IpsModule({ flushIntervalMs: 1000 });
const diags = m.configure(config);
if (diags.length) throw new Error(JSON.stringify(diags));
await m.start({
  emit: (e) => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    return e as never;
  },
  logger: silentLogger(),
  dataDir: '/nonexistent',
  config,
});
process.stdout.write('{"ready":true}\n');
process.on('SIGTERM', () => {
  void m.stop().then(() => process.exit(0));
});
