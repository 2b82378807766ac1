import { parentPort, workerData } from 'node:worker_threads';
import { LogSession, loadLogRuleset, type RulesetSources } from '@palisade/log-rules';
import type { EngineAlert, EngineLine } from './watched-engine.ts';

/**
 * The log rules engine in a worker thread, so a rule whose regex runs away blocks only this
 * thread: the WatchedEngine sees the line counter stop moving and terminates it. The ruleset is
 * compiled here (compiled rules cannot cross threads); one session keeps correlation state for
 * every line this worker sees.
 *
 * `progress` (shared with the parent): [0] 1 while a line is evaluated, [1] index of that line in
 * its batch, [2] lines started (wraps).
 */
const { sources, progress, minLevel } = workerData as { sources: RulesetSources; progress: SharedArrayBuffer; minLevel: number };
const p = new Int32Array(progress);

const loaded = loadLogRuleset(sources);
if (!loaded.ok) parentPort!.postMessage({ type: 'fatal', diagnostics: loaded.diagnostics });
else {
  const session = new LogSession(loaded.value);
  parentPort!.postMessage({ type: 'ready', diagnostics: loaded.diagnostics });
  parentPort!.on('message', (m: { id: number; lines: EngineLine[]; skip: number[] }) => {
    const skip = new Set(m.skip);
    const alerts: EngineAlert[] = [];
    const errors: { index: number; message: string }[] = [];
    for (let i = 0; i < m.lines.length; i++) {
      if (skip.has(i)) continue;
      const line = m.lines[i]!;
      Atomics.store(p, 1, i);
      Atomics.add(p, 2, 1);
      Atomics.store(p, 0, 1);
      try {
        const r = session.process(line.text, { location: line.location, logFormat: line.format, time: line.time });
        if (r.alert && r.rule && r.rule.level >= minLevel) {
          const e = r.event;
          alerts.push({
            index: i,
            rule: r.rule,
            event: {
              fullLog: e.fullLog,
              location: e.location,
              ...(e.timestamp !== undefined ? { timestamp: e.timestamp } : {}),
              ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
              ...(e.programName !== undefined ? { programName: e.programName } : {}),
              ...(e.decoder !== undefined ? { decoder: e.decoder } : {}),
              ...(e.parentDecoder !== undefined ? { parentDecoder: e.parentDecoder } : {}),
              ...(e.previousOutput !== undefined ? { previousOutput: e.previousOutput } : {}),
              fields: e.fields,
            },
          });
        }
      } catch (err) {
        errors.push({ index: i, message: String((err as Error)?.message ?? err) });
      }
      Atomics.store(p, 0, 0);
    }
    parentPort!.postMessage({ type: 'result', id: m.id, alerts, errors });
  });
}
