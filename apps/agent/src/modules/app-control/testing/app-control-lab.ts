import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../../agent-module.ts';
import type { ModuleConfig } from '@palisade/protocol';
import { GATE_BINARY } from '../gate-binary.ts';

const repoRoot = fileURLToPath(new URL('../../../../../../', import.meta.url));
export const LOADER = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'].find((p) => existsSync(p));
const TRUE_BINARY = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p)) ?? '/bin/true';

/**
 * Why the enforcement tests cannot run here, or undefined. Builds the helper first (the
 * install-time build may not have run in a fresh checkout).
 */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (fanotify permission events, tmpfs mounts)';
  spawnSync(process.execPath, [join(repoRoot, 'scripts/build-native.mjs')], { stdio: 'ignore' });
  if (!existsSync(GATE_BINARY)) return 'fanotify-gate could not be built (no C compiler?)';
  const probe = spawnSync(GATE_BINARY, ['--probe'], { encoding: 'utf8' });
  if (probe.status !== 0) return `fanotify permission events unavailable: ${probe.stderr.trim()}`;
  if (!LOADER) return 'no dynamic loader found at a known path';
  return undefined;
}

/**
 * A private tmpfs: the only filesystem these tests ever mark, so a bug can only ever block
 * files of the test itself, never the host's own programs.
 */
export class AppControlLab {
  readonly base = mkdtempSync(join(tmpdir(), 'palisade-appctl-'));
  readonly mnt = join(this.base, 'mnt');
  readonly dataDir = join(this.base, 'data');
  readonly events: ModuleEventInput[] = [];

  constructor() {
    mkdirSync(this.mnt);
    mkdirSync(this.dataDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'tmpfs', this.mnt]);
  }

  /** A runnable ELF with content of its own: /bin/true with random bytes appended. */
  binary(name: string): string {
    const p = join(this.mnt, name);
    copyFileSync(TRUE_BINARY, p);
    appendFileSync(p, randomBytes(32));
    chmodSync(p, 0o755);
    return p;
  }

  script(name: string): string {
    const p = join(this.mnt, name);
    writeFileSync(p, `#!/bin/sh\n# ${randomBytes(8).toString('hex')}\nexit 0\n`, { mode: 0o755 });
    return p;
  }

  context(config: ModuleConfig): ModuleContext {
    return {
      emit: (e) => {
        this.events.push(e);
        return { ...e, id: String(this.events.length), time: new Date().toISOString(), module: 'app-control' } as never;
      },
      logger: silentLogger(),
      dataDir: this.dataDir,
      config,
    };
  }

  config(mode: 'detect' | 'prevent', settings: Record<string, unknown> = {}): ModuleConfig {
    return { enabled: true, mode, settings: { roots: [this.mnt], marks: { mounts: [this.mnt] }, hashThreads: 1, ...settings } };
  }

  /** Runs a command (through sh when `shell`) with a hard timeout, so a bug fails the test instead of hanging it. */
  run(cmd: string, args: string[] = [], timeoutMs = 15_000): Promise<{ code: number | null; stderr: string; ms: number; error?: string }> {
    return new Promise((resolve) => {
      const t0 = performance.now();
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
      } catch (e) {
        // A refused execve surfaces here, synchronously (EPERM from the fanotify verdict).
        resolve({ code: null, stderr: '', ms: performance.now() - t0, error: (e as NodeJS.ErrnoException).code ?? String(e) });
        return;
      }
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ code: null, stderr, ms: performance.now() - t0, error: e.code ?? e.message }),
      );
      child.on('close', (code) => resolve({ code, stderr: stderr.trim(), ms: performance.now() - t0 }));
    });
  }

  sh(command: string): ReturnType<AppControlLab['run']> {
    return this.run('/bin/sh', ['-c', command]);
  }

  /**
   * Waits for an event: reports travel from the helper through the enforcement thread, which
   * may be after the program that caused them has already exited.
   */
  async waitForEvent(type: string, match: (e: ModuleEventInput) => boolean, timeoutMs = 5000): Promise<ModuleEventInput | undefined> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const found = this.eventsOf(type).find(match);
      if (found || performance.now() > until) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Waits until the module's baseline exists (start() returns before the first inventory is
   * done): polls status(), as the agent's heartbeat would.
   */
  async ready(m: { status(): { state: string; details?: Record<string, unknown> } }, timeoutMs = 60_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const st = m.status();
      if (st.state === 'running' && st.details?.baselineState === 'ready') return;
      if (st.state === 'error' || performance.now() > until) throw new Error(`app-control not ready: ${JSON.stringify(st)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  eventsOf(type: string): ModuleEventInput[] {
    return this.events.filter((e) => e.type === type);
  }

  cleanup(): void {
    try {
      execFileSync('umount', ['-l', this.mnt]);
    } catch {
      // Already gone.
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}
