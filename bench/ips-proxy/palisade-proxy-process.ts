import { readFileSync } from 'node:fs';
import { silentLogger } from '../../apps/agent/src/agent-logger.ts';
import { IpsModule } from '../../apps/agent/src/modules/ips/ips-module.ts';

/** One Palisade IPS proxy process for the benchmark: settings JSON path as the only argument. */
const settings = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, unknown>;
const config = { enabled: true, mode: 'prevent' as const, settings };
const m = new IpsModule();
const diags = m.configure(config);
if (diags.length) throw new Error(JSON.stringify(diags));
let blocked = 0;
await m.start({ emit: (e) => { blocked++; return e as never; }, logger: silentLogger(), dataDir: '/nonexistent', config });
process.on('SIGTERM', () => {
  void m.stop().then(() => {
    if (blocked) process.stderr.write(`palisade bench proxy: ${blocked} events\n`);
    process.exit(0);
  });
});
