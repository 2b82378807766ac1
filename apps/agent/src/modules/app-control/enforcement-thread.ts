import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readlinkSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { AppControlPolicy, compilePathPattern, enforcementFor, type FileFacts } from '@palisade/app-control';
import type { FromThread, PolicySnapshot, ToThread } from './enforcement-messages.ts';
import { GateProcess, type GateRequest } from './gate-process.ts';
import { PackageDatabase, type PackageDatabaseOptions, type PackageLookup } from './package-database.ts';

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
let pending: ((path: string) => boolean)[] = [];

/*
 * Package ownership, for package rules and allow-by-origin. Loaded here (not in the main
 * thread) so that a package upgrade is seen at the moment its new binary first runs: the
 * databases' stamp is checked at most once a second, and only when a verdict needs it.
 */
let packageDb: PackageDatabase | undefined;
let packageDbOptions: PackageDatabaseOptions = {};
let packagesCheckedAt = 0;
const intactCache = new Map<string, { sha256: string; digest: string }>();

function packageIndex(): PackageLookup {
  const now = Date.now();
  if (!packageDb) {
    packageDb = new PackageDatabase(packageDbOptions);
    packagesCheckedAt = now;
  } else if (now - packagesCheckedAt >= 1000) {
    packagesCheckedAt = now;
    if (packageDb.refresh()) intactCache.clear();
  }
  return packageDb.index;
}

/** Digests of the file now at `path` (SHA-256 and the package database's algorithm), read once. */
function digestsOf(path: string, algo: 'md5' | 'sha256'): { sha256: string; digest: string } | undefined {
  const hit = intactCache.get(path);
  if (hit) return hit;
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const s = createHash('sha256');
    const d = algo === 'sha256' ? undefined : createHash(algo);
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      s.update(buf.subarray(0, n));
      d?.update(buf.subarray(0, n));
    }
    const sha256 = s.digest('hex');
    const out = { sha256, digest: d ? d.digest('hex') : sha256 };
    if (intactCache.size > 4096) intactCache.clear();
    intactCache.set(path, out);
    return out;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Who installed the file and whether it is still what they installed. The helper hashed the
 * event's own file descriptor; the path is read again here, so the package digest only counts
 * when that read gave the same SHA-256 (a file swapped in between is not intact).
 */
function packageFacts(path: string, sha256: string): FileFacts['package'] {
  const owner = packageIndex().get(path);
  if (!owner) return undefined;
  let d = digestsOf(path, owner.algo);
  if (d && d.sha256 !== sha256) {
    intactCache.delete(path);
    d = digestsOf(path, owner.algo);
  }
  return { manager: owner.manager, name: owner.name, intact: d !== undefined && d.sha256 === sha256 && d.digest === owner.digest };
}

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

function compile(p: PolicySnapshot): AppControlPolicy {
  pending = (p.pendingRoots ?? []).map((r) => compilePathPattern(r.endsWith('/') ? r : `${r}/`));
  return new AppControlPolicy({ rulesets: p.rulesets, globalBlock: p.globalBlock, baseline: p.baseline, trustPackages: p.trustPackages });
}

function apply(p: PolicySnapshot): void {
  snapshot = p;
  policy = compile(p);
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
  let decision = policy.decide({ path: r.path, sha256: r.sha256 });
  let pkg: FileFacts['package'];
  // Ownership costs a lookup (and a read on a first sight): only when it can change the verdict.
  if (policy.packageFactsMatter(decision)) {
    pkg = packageFacts(r.path, r.sha256);
    if (pkg) decision = policy.decide({ path: r.path, sha256: r.sha256, package: pkg });
  }
  const maintenance = snapshot.maintenanceUntil !== undefined && Date.now() < snapshot.maintenanceUntil;
  const e = r.kind === 'B' ? { deny: true, report: true, learn: false } : enforcementFor(snapshot.mode, decision.verdict, maintenance);
  // The first inventory is still running: under its roots "unknown" means "not hashed yet".
  if (e.report && !e.deny && decision.verdict === 'unknown' && pending.some((m) => m(r.path))) e.report = false;
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
      ...(pkg ? { package: pkg } : {}),
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
      packageDbOptions = m.packageDatabase ?? {};
      snapshot = m.policy;
      policy = compile(m.policy);
      try {
        // Read before marking: the first package binary to run must not wait for the whole database.
        if (policy.needsPackageFacts) packageIndex();
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
