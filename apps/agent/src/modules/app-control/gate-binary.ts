import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where scripts/build-native.mjs puts the helper (apps/agent/native/build). */
export const GATE_BINARY = fileURLToPath(new URL('../../../native/build/fanotify-gate', import.meta.url));

export interface GateProbe {
  ok: boolean;
  reason?: string;
  /** `libcrypto` (SHA-NI speed) or `portable` (the helper's own C SHA-256). */
  hash?: string;
}

/**
 * Can enforcement run here? Asks the helper itself to open a permission-class fanotify group,
 * which checks root (CAP_SYS_ADMIN), CONFIG_FANOTIFY_ACCESS_PERMISSIONS and the build at once.
 */
export function probeGate(binary = GATE_BINARY): Promise<GateProbe> {
  if (process.platform !== 'linux') return Promise.resolve({ ok: false, reason: 'application control enforcement needs Linux (fanotify)' });
  if (!existsSync(binary)) {
    return Promise.resolve({ ok: false, reason: `enforcement helper not built: run "node scripts/build-native.mjs" (needs a C compiler)` });
  }
  return new Promise((resolve) => {
    execFile(binary, ['--probe'], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err)
        resolve({
          ok: false,
          reason: `fanotify permission events unavailable: ${(stderr || err.message).trim()} (needs root and CONFIG_FANOTIFY_ACCESS_PERMISSIONS)`,
        });
      else resolve({ ok: true, hash: stdout.trim().split(' ')[1] ?? 'portable' });
    });
  });
}
