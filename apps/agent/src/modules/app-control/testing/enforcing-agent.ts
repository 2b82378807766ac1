// A stand-alone agent process with only application control, for the fail-open test: the
// test SIGKILLs it while an exec waits for a verdict. Usage: enforcing-agent.ts '<json>'.
import { silentLogger } from '../../../agent-logger.ts';
import type { ModuleContext } from '../../../agent-module.ts';
import { AppControlModule } from '../app-control-module.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as { mnt: string; dataDir: string; delayMs: number; timeoutMs: number };
const m = new AppControlModule({ decisionDelayMs: o.delayMs });
const config = {
  enabled: true,
  mode: 'prevent' as const,
  settings: { roots: [o.mnt], marks: { mounts: [o.mnt] }, decisionTimeoutMs: o.timeoutMs, hashThreads: 1 },
};
const ctx: ModuleContext = {
  emit: (e) => {
    process.stdout.write(`EVENT ${JSON.stringify(e)}\n`);
    return e as never;
  },
  logger: silentLogger(),
  dataDir: o.dataDir,
  config,
};
await m.start(ctx);
// Ready = the baseline exists and unknown software is refused (start() returns before that).
while (m.status().details?.baselineState !== 'ready' && m.status().state === 'running') await new Promise((r) => setTimeout(r, 20));
const st = m.status();
process.stdout.write(`READY ${JSON.stringify(st)}\n`);
// Stays up until killed.
setInterval(() => {}, 1 << 30);
