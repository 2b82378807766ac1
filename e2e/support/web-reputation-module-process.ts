// Runs the web-reputation agent module alone with the module settings given as a JSON file, and
// prints its events as JSON lines: lets a test run the module inside a network namespace.
import { readFileSync } from 'node:fs';
import { silentLogger } from '../../apps/agent/src/agent-logger.ts';
import { WebReputationModule } from '../../apps/agent/src/modules/web-reputation/index.ts';

const settings = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, unknown>;
const config = { enabled: true, mode: 'prevent' as const, settings };
const m = new WebReputationModule({ eventWindowMs: 0 });
const diags = m.configure(config);
if (diags.length) throw new Error(JSON.stringify(diags));
await m.start({
  emit: (e) => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    return { ...e, id: '0', time: new Date().toISOString(), module: 'web-reputation' } as never;
  },
  logger: silentLogger(),
  dataDir: process.argv[3] ?? process.cwd(),
  config,
});
process.stdout.write(`${JSON.stringify({ ready: true, ports: m.listeningPorts() })}\n`);
const stop = () => void m.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
