import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';

const JOURNALD = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'].find((p) => existsSync(p));

/** Why a private journald cannot be started here, or undefined when it can (tests skip with it). */
export function journaldLabUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (journald namespace)';
  if (!JOURNALD) return 'systemd-journald not installed';
  if (spawnSync('journalctl', ['--version']).status !== 0) return 'journalctl not installed';
  return undefined;
}

/**
 * A real journald for tests: a private journal namespace (`systemd-journald <ns>`: its own
 * sockets under /run/systemd/journal.<ns>, its own files), so the host's journal is untouched.
 * Lines are written through journald's stdout stream socket, as systemd connects a service's
 * output. Namespace instances exit on their own when idle; `write()` starts one again (the
 * journal files stay, so a follower keeps reading). `stop()` ends the daemon and removes its
 * sockets and files.
 */
export class JournaldLab {
  private proc: ChildProcess | undefined;

  constructor(readonly namespace: string) {}

  async start(): Promise<void> {
    const socket = `/run/systemd/journal.${this.namespace}/stdout`;
    // A previous instance's socket file would make us connect before the new one listens.
    rmSync(socket, { force: true });
    this.proc = spawn(JOURNALD!, [this.namespace], { stdio: 'ignore' });
    const end = Date.now() + 10_000;
    while (!existsSync(socket)) {
      if (Date.now() > end || this.proc.exitCode !== null) throw new Error(`journald for namespace ${this.namespace} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Writes `lines` as entries of `identifier`: one connection per call, closed at once (this
   * journald stored later writes on a long-lived stream only when it closed).
   */
  async write(identifier: string, lines: string[]): Promise<void> {
    // A namespace journald exits by itself after a while without clients: start it again.
    if (this.proc && (this.proc.exitCode !== null || this.proc.signalCode !== null)) await this.start();
    const s = connect(`/run/systemd/journal.${this.namespace}/stdout`);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.end(`${identifier}\n\n6\n0\n0\n0\n0\n${lines.map((l) => `${l}\n`).join('')}`);
    await new Promise((r) => s.once('close', r));
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
    const machineId = existsSync('/etc/machine-id') ? readFileSync('/etc/machine-id', 'utf8').trim() : '';
    rmSync(`/run/systemd/journal.${this.namespace}`, { recursive: true, force: true });
    if (machineId)
      for (const d of ['/var/log/journal', '/run/log/journal'])
        rmSync(`${d}/${machineId}.${this.namespace}`, { recursive: true, force: true });
  }
}
