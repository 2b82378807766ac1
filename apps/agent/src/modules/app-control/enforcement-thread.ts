import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { AppControlPolicy, enforcementFor } from '@palisade/app-control';
import type { FromThread, PolicySnapshot, ToThread } from './enforcement-messages.ts';
import { GateProcess, type GateRequest } from './gate-process.ts';

/*
 * The enforcement thread: owns the fanotify-gate helper and a copy of the policy, and answers
 * every request itself. It lives apart from the agent's main thread because the main thread
 * can block (spawnSync, a long GC, a synchronous SQLite write) while a process on the host
 * waits in execve for our answer.
 */
const port = parentPort;
if (!port) throw new Error('enforcement-thread must run in a worker thread');

const gate = new GateProcess();
let snapshot: PolicySnapshot | undefined;
let policy: AppControlPolicy | undefined;
let delayMs = 0;
let contentOnly = false;
const WATCHDOG_MS = 5000;
const pendingPaths = new Map<number, string>();

function post(m: FromThread): void {
  port?.postMessage(m);
}

/** Lets the helper answer content-allowed misses itself (no round trip), when the policy allows that. */
function shareContentAllowed(): void {
  contentOnly = false;
  const allowed = policy?.contentAllowed();
  gate.setContentAllowed(allowed ?? []);
  contentOnly = allowed !== undefined;
}

function apply(p: PolicySnapshot): void {
  snapshot = p;
  policy = new AppControlPolicy({ rulesets: p.rulesets, globalBlock: p.globalBlock, baseline: p.baseline });
  shareContentAllowed();
  // detect <-> blocking changes the fanotify class: the module restarts the helper for that.
  // Any change may turn a cached allow into a block (or back): decide everything afresh.
  gate.clearCache();
}

/**
 * A helper that stops answering its own pipe is stuck (and so may be every process waiting on
 * it): it is killed, which releases them all (fail-open), and the module reports enforcement
 * as stopped.
 */
function startWatchdog(): void {
  let waiting = false;
  let since = 0;
  const t = setInterval(() => {
    if (waiting) {
      if (Date.now() - since > WATCHDOG_MS) {
        post({ type: 'error', message: `fanotify-gate did not answer for ${WATCHDOG_MS} ms: killed (fail-open)` });
        clearInterval(t);
        gate.kill();
      }
      return;
    }
    waiting = true;
    since = Date.now();
    void gate.stats().then(() => {
      waiting = false;
    });
  }, 1000);
  t.unref();
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function onRequest(r: GateRequest): void {
  if (!policy || !snapshot) {
    if (r.kind === 'Q') gate.answer(r.id, true);
    return;
  }
  const decision = policy.decide({ path: r.path, sha256: r.sha256 });
  const maintenance = snapshot.maintenanceUntil !== undefined && Date.now() < snapshot.maintenanceUntil;
  const e = r.kind === 'B' ? { deny: true, report: true, learn: false } : enforcementFor(snapshot.mode, decision.verdict, maintenance);
  if (e.learn) {
    policy.learn(r.sha256);
    if (contentOnly) gate.addContentAllowed(r.sha256);
  }
  if (r.kind === 'Q') {
    if (delayMs > 0) {
      pendingPaths.set(r.id, r.path);
      setTimeout(() => {
        pendingPaths.delete(r.id);
        gate.answer(r.id, !e.deny);
      }, delayMs);
    } else gate.answer(r.id, !e.deny);
  }
  if (!e.report && !e.learn) return;
  const exe = exeOf(r.pid);
  post({
    type: 'observation',
    observation: {
      access: r.access,
      pid: r.pid,
      uid: r.uid,
      ...(exe ? { exe } : {}),
      sha256: r.sha256,
      path: r.path,
      decision,
      denied: e.deny,
      learned: e.learn,
      cached: r.kind === 'B',
    },
  });
}

port.on('message', async (m: ToThread) => {
  switch (m.type) {
    case 'start':
      delayMs = m.decisionDelayMs ?? 0;
      snapshot = m.policy;
      policy = new AppControlPolicy({ rulesets: m.policy.rulesets, globalBlock: m.policy.globalBlock, baseline: m.policy.baseline });
      try {
        await gate.start(
          {
            marks: m.marks,
            timeoutMs: m.timeoutMs,
            detect: m.policy.mode === 'detect',
            exemptPids: m.exemptPids,
            ...(m.binary ? { binary: m.binary } : {}),
          },
          {
            request: onRequest,
            timeout: (id) => post({ type: 'timeout', id, ...(pendingPaths.has(id) ? { path: pendingPaths.get(id) } : {}) }),
            error: (message) => post({ type: 'error', message }),
            exit: (code, signal) => post({ type: 'exited', code, signal }),
          },
        );
        shareContentAllowed();
        startWatchdog();
        post({ type: 'ready', hashImpl: gate.hashImpl, helperPid: gate.pid });
      } catch (e) {
        post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
      }
      break;
    case 'policy':
      apply(m.policy);
      // The helper handles its input in order: once it answers this, the cache is cleared.
      await gate.stats();
      post({ type: 'applied', id: m.id });
      break;
    case 'stats':
      post({ type: 'stats', id: m.id, stats: await gate.stats() });
      break;
    case 'stop':
      await gate.stop();
      // Ends this thread only (worker semantics), pending test delays included.
      process.exit(0);
      break;
  }
});
