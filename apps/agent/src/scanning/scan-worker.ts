import { parentPort, workerData } from 'node:worker_threads';
import { loadSignatures, type SignatureSources } from '@palisade/signatures';
import { type FileScanOptions, scanFile } from './file-scanner.ts';

/** Worker side of ScanPool: compiles its own engine (engines cannot cross threads) and scans paths. */
interface Init {
  sources: SignatureSources;
  skipInvalid: boolean;
  scan: FileScanOptions;
}

const init = workerData as Init;
const loaded = loadSignatures(init.sources, { skipInvalid: init.skipInvalid });
if (!loaded.ok) {
  parentPort!.postMessage({ type: 'fatal', diagnostics: loaded.diagnostics });
} else {
  const engine = loaded.value;
  parentPort!.postMessage({ type: 'ready' });
  parentPort!.on('message', async (m: { id: number; path: string }) => {
    const result = await scanFile(engine, m.path, init.scan);
    parentPort!.postMessage({ type: 'result', id: m.id, result });
  });
}
