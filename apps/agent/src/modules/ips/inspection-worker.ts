import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { type InspectedRequest, inspectRequest } from '@palisade/ips-middleware';
import { buildIpsRuleSet } from './build-ips-rule-set.ts';
import type { IpsSettings } from './ips-settings.ts';
import { readPatchPack } from './read-patch-pack.ts';
import { globFiles, readFileOrUndefined } from './rule-files.ts';

/**
 * The engine in a worker thread: it builds its own rule set (compiled rules cannot be sent
 * between threads) and answers one request per message. A request that makes a rule run away
 * blocks only this thread; the pool terminates it and starts another.
 */
const { settings, patchIds } = workerData as { settings: IpsSettings; patchIds?: string[] };

const patches = settings.ruleSets.patches ? readPatchPack(settings.ruleSets.patches.dir) : [];
const built = buildIpsRuleSet(settings, { readFile: readFileOrUndefined, glob: globFiles, patches }, patchIds);
if (!built.ok) parentPort!.postMessage({ type: 'fatal', message: built.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ') });
else {
  const rs = built.value.ruleSet;
  parentPort!.postMessage({ type: 'ready', ruleCount: rs.ruleCount });
  parentPort!.on('message', (m: { id: number; req: InspectedRequest; body?: Uint8Array }) => {
    try {
      const v = inspectRequest(rs, m.req, m.body);
      parentPort!.postMessage({ type: 'result', id: m.id, interruption: v.interruption, matchedRules: v.matchedRules });
    } catch (err) {
      parentPort!.postMessage({ type: 'error', id: m.id, message: String((err as Error)?.message ?? err) });
    }
  });
}
