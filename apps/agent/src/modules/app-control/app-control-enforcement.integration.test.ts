import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { AppControlModule } from './app-control-module.ts';
import { AppControlLab, LOADER, labUnavailableReason } from './testing/app-control-lab.ts';

const skip = labUnavailableReason();
if (skip) console.log(`# application control enforcement tests skipped: ${skip}`);

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const md5 = (p: string) => createHash('md5').update(readFileSync(p)).digest('hex');

describe('application control enforcement on a private tmpfs', { skip, timeout: 120_000 }, () => {
  let lab: AppControlLab;
  before(() => {
    lab = new AppControlLab();
  });
  after(() => lab?.cleanup());

  test('block-unrecognized: baseline runs; unknown, loader-run and changed binaries are refused', async () => {
    const known = lab.binary('known');
    const m = new AppControlModule();
    const config = lab.config('prevent', { decisionTimeoutMs: 5000 });
    assert.deepEqual(m.configure(config), []);
    await m.start(lab.context(config));
    try {
      await lab.ready(m);
      assert.equal(m.status().state, 'running', JSON.stringify(m.status()));
      assert.deepEqual((await lab.run(known)).code, 0);

      const unknown = lab.binary('dropped');
      const direct = await lab.run(unknown);
      assert.equal(direct.error, 'EPERM', JSON.stringify(direct));
      const viaShell = await lab.sh(unknown);
      assert.equal(viaShell.code, 126, viaShell.stderr);
      assert.match(viaShell.stderr, /not permitted/i);

      // The dynamic loader route: exec of ld.so is allowed, its open of the binary is not.
      const viaLoader = await lab.run(LOADER!, [unknown]);
      assert.notEqual(viaLoader.code, 0);
      assert.match(viaLoader.stderr, /Operation not permitted/);
      // ...while the loader route still works for allowed software.
      assert.equal((await lab.run(LOADER!, [known])).code, 0);

      const script = lab.script('dropped.sh');
      assert.equal((await lab.sh(script)).code, 126);

      // Reading an unknown program is not running it: copying it elsewhere still works.
      assert.equal((await lab.sh(`cat ${unknown} > /dev/null`)).code, 0);

      const ev = await lab.waitForEvent('app-control.blocked', (e) => e.details?.path === unknown && e.details?.access === 'exec');
      assert.ok(ev, JSON.stringify(lab.events));
      assert.equal(ev.details?.sha256, sha(unknown));
      assert.equal(ev.details?.verdict, 'unknown');
      assert.deepEqual((ev.details?.user as { uid: number }).uid, 0);
      assert.ok((ev.details?.process as { pid: number }).pid > 0);
      assert.ok(
        await lab.waitForEvent('app-control.blocked', (e) => e.details?.path === unknown && e.details?.access === 'open'),
        'loader open reported',
      );
      assert.ok(await lab.waitForEvent('app-control.blocked', (e) => e.details?.path === script));

      // Same inode, new content: the cache key changes and the verdict is unknown.
      appendFileSync(known, 'x');
      assert.equal((await lab.sh(known)).code, 126);

      // An operator allows the dropped binary on this computer: it runs, the drift is resolved.
      await m.decideLocally(sha(unknown), 'allow');
      assert.equal((await lab.run(unknown)).code, 0);
      assert.equal(m.driftRecords().filter((r) => r.path === unknown).length, 0);
      // ...and blocks one explicitly.
      await m.decideLocally(sha(unknown), 'block');
      assert.equal((await lab.sh(unknown)).code, 126);
      const stats = await m.gateStats();
      assert.ok(stats && stats.hits > 0 && stats.misses > 0, JSON.stringify(stats));
      // The baseline binary's first run was answered by the helper alone (content-allowed set).
      assert.ok(stats.local > 0, JSON.stringify(stats));
    } finally {
      await m.stop();
    }
    // Stopped: nothing is enforced any more.
    assert.equal((await lab.run(lab.binary('after-stop'))).code, 0);
  });

  test('detect: unknown software runs and is reported once', async () => {
    const m = new AppControlModule();
    const config = lab.config('detect');
    await m.start(lab.context(config));
    try {
      await lab.ready(m);
      const unknown = lab.binary('detect-me');
      assert.equal((await lab.run(unknown)).code, 0);
      assert.equal((await lab.run(unknown)).code, 0);
      assert.equal((await lab.run(LOADER!, [unknown])).code, 0);
      await lab.waitForEvent('app-control.drift', (e) => e.details?.path === unknown);
      const drift = lab.eventsOf('app-control.drift').filter((e) => e.details?.path === unknown);
      assert.equal(drift.length, 1, JSON.stringify(drift));
      assert.equal(drift[0]?.details?.sha256, sha(unknown));
      assert.equal(lab.eventsOf('app-control.blocked').filter((e) => e.details?.path === unknown).length, 0);
    } finally {
      await m.stop();
    }
  });

  test('block-explicit: unknown runs as drift, an explicitly blocked hash is refused', async () => {
    const bad = lab.binary('known-bad');
    const m = new AppControlModule();
    const config = lab.config('prevent', {
      mode: 'block-explicit',
      rulesets: [{ id: 'fleet', name: 'Fleet', rules: [{ kind: 'hash', sha256: sha(bad), action: 'block' }] }],
    });
    assert.deepEqual(m.configure(config), []);
    await m.start(lab.context(config));
    try {
      await lab.ready(m);
      const unknown = lab.binary('unknown-ok');
      assert.equal((await lab.run(unknown)).code, 0);
      assert.equal((await lab.sh(bad)).code, 126);
      assert.ok(await lab.waitForEvent('app-control.drift', (e) => e.details?.path === unknown));
      assert.ok(await lab.waitForEvent('app-control.blocked', (e) => e.details?.path === bad && e.details?.source === 'hash'));
    } finally {
      await m.stop();
    }
  });

  test('maintenance: what is installed or run meanwhile is allowed afterwards; the same outside maintenance is not', async () => {
    const m = new AppControlModule();
    const config = lab.config('prevent');
    await m.start(lab.context(config));
    try {
      await lab.ready(m);
      await m.startMaintenance('60s');
      const ranDuring = lab.binary('patched-and-run');
      assert.equal((await lab.run(ranDuring)).code, 0);
      const installedDuring = lab.binary('installed-not-run');
      const ended = await m.endMaintenance();
      assert.ok(ended.added >= 2, JSON.stringify(ended));
      assert.equal((await lab.run(ranDuring)).code, 0);
      assert.equal((await lab.run(installedDuring)).code, 0);
      const afterwards = lab.binary('installed-after');
      assert.equal((await lab.sh(afterwards)).code, 126);
      assert.ok(lab.eventsOf('app-control.maintenance-ended').length >= 1);
    } finally {
      await m.stop();
    }
  });

  test('start() returns before the first inventory; nothing unknown is blocked until the baseline exists', async () => {
    const bad = lab.binary('blocked-while-building');
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    // The inventory is held until the test releases it: the module must be up (and say why) meanwhile.
    let inventories = 0;
    const m = new AppControlModule({
      beforeInventory: () => {
        inventories++;
        return held;
      },
    });
    const config = lab.config('prevent', {
      rulesets: [{ id: 'fleet', name: 'Fleet', rules: [{ kind: 'hash', sha256: sha(bad), action: 'block' }] }],
    });
    const ctx = lab.context(config);
    // Its own data directory: the other tests' inventories must not count as a baseline here.
    const dataDir = `${lab.base}/data-building`;
    mkdirSync(dataDir);
    await m.start({ ...ctx, dataDir });
    try {
      const st = m.status();
      assert.equal(st.state, 'running', JSON.stringify(st));
      assert.equal(st.details?.baselineState, 'building');
      assert.equal(st.details?.enforcedMode, 'block-explicit');
      assert.match(st.reason ?? '', /^building baseline/);
      assert.match(st.reason ?? '', /unknown software is not blocked/);
      const early = lab.binary('ran-while-building');
      assert.equal((await lab.run(early)).code, 0, 'unknown software runs while the baseline is built');
      assert.equal((await lab.sh(bad)).code, 126, 'an explicit block applies at once');
      // A configuration change during the build (a reviewed drift) does not restart the inventory.
      const allowEarly = { id: 'review', name: 'review', rules: [{ kind: 'hash', sha256: sha(early), action: 'allow' }] };
      await m.reconfigure({
        ...config,
        settings: { ...config.settings, rulesets: [...(config.settings.rulesets as unknown[]), allowEarly] },
      });
      assert.equal(inventories, 1);
      assert.equal(m.status().details?.baselineState, 'building');
      release();
      await lab.ready(m);
      assert.equal(m.status().reason, undefined);
      assert.equal(m.status().details?.enforcedMode, 'block-unrecognized');
      // Now it is enforced: software that appeared after the inventory is refused.
      assert.equal((await lab.sh(lab.binary('after-baseline'))).code, 126);
      // While building, unknown software under the roots was not reported (it was not hashed yet).
      assert.equal(lab.eventsOf('app-control.drift').filter((e) => e.details?.path === early).length, 0);
    } finally {
      release();
      await m.stop();
    }
  });

  test('allow by origin: an intact dpkg-owned file runs without being in the baseline; modified, it is refused', async () => {
    const info = `${lab.base}/dpkg-info`;
    mkdirSync(info);
    const m = new AppControlModule({ packageDatabase: { dpkgInfoDir: info, rpm: false } });
    const ctx = lab.context(lab.config('prevent'));
    const dataDir = `${lab.base}/data-origin`;
    mkdirSync(dataDir);
    await m.start({ ...ctx, dataDir });
    try {
      await lab.ready(m);
      // Installed after the inventory, as an unattended upgrade would: not in the baseline.
      const upgraded = lab.binary('upgraded-by-dpkg');
      const stray = lab.binary('not-a-package-file');
      writeFileSync(`${info}/fixture-tool:amd64.md5sums`, `${md5(upgraded)}  ${upgraded.slice(1)}\n`);
      // The enforcement thread looks at the package databases at most once a second.
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal((await lab.run(upgraded)).code, 0, 'intact package file runs');
      assert.equal((await lab.sh(stray)).code, 126, 'a file no package lists is still unknown');
      appendFileSync(upgraded, 'tampered');
      assert.equal((await lab.sh(upgraded)).code, 126, 'a modified package file is unknown');
      const ev = await lab.waitForEvent('app-control.blocked', (e) => e.details?.path === upgraded);
      assert.deepEqual(ev?.details?.package, { manager: 'dpkg', name: 'fixture-tool', intact: false });
      assert.equal(ev?.details?.size, readFileSync(upgraded).length);
    } finally {
      await m.stop();
    }
  });

  test('allowed content only root can write is left to the kernel (an inode ignore mark) until it or the policy changes', async () => {
    const m = new AppControlModule();
    const ctx = lab.context(lab.config('prevent'));
    const dataDir = `${lab.base}/data-ignore`;
    mkdirSync(dataDir);
    const bin = lab.binary('kernel-cached');
    await m.start({ ...ctx, dataDir });
    try {
      await lab.ready(m);
      assert.equal((await lab.run(bin)).code, 0);
      const s1 = (await m.gateStats())!;
      assert.ok(s1.ignored >= 1, JSON.stringify(s1));
      for (let i = 0; i < 5; i++) assert.equal((await lab.run(bin)).code, 0);
      const s2 = (await m.gateStats())!;
      assert.equal(s2.hits + s2.misses, s1.hits + s1.misses, 'no event reached the helper for the marked file');
      // A policy change flushes the marks: a block is in force at once.
      await m.decideLocally(sha(bin), 'block');
      assert.equal((await lab.sh(bin)).code, 126);
      await m.decideLocally(sha(bin), 'allow');
      assert.equal((await lab.run(bin)).code, 0);
      // Changed content: the kernel drops the mark on the write, the new content is unknown.
      appendFileSync(bin, 'changed');
      assert.equal((await lab.sh(bin)).code, 126);
      // A file others may write gets no mark (a write through a shared mapping would not clear it).
      const shared = lab.binary('group-writable');
      chmodSync(shared, 0o775);
      await m.decideLocally(sha(shared), 'allow');
      const s3 = (await m.gateStats())!;
      assert.equal((await lab.run(shared)).code, 0);
      assert.equal((await lab.run(shared)).code, 0);
      const s4 = (await m.gateStats())!;
      assert.equal(s4.ignored, s3.ignored);
      assert.ok(s4.hits > s3.hits, 'the second run was answered from the helper cache');
    } finally {
      await m.stop();
    }
  });

  test('disk check: new and changed executables not run yet are drift once; allowed ones are not; the baseline stays', async () => {
    const m = new AppControlModule();
    const ctx = lab.context(lab.config('prevent'));
    const dataDir = `${lab.base}/data-disk`;
    mkdirSync(dataDir);
    const installed = lab.binary('disk-installed');
    await m.start({ ...ctx, dataDir });
    try {
      await lab.ready(m);
      const dropped = lab.binary('disk-dropped');
      const approved = lab.binary('disk-approved');
      await m.decideLocally(sha(approved), 'allow');
      appendFileSync(installed, 'patched');
      const before = lab.events.length;
      const r = await m.checkDisk();
      assert.ok(r.added >= 2 && r.changed >= 1 && r.reported === 2, JSON.stringify(r));
      const reported = lab.events.slice(before).filter((e) => e.type === 'app-control.drift' && e.details?.access === 'disk');
      assert.deepEqual(reported.map((e) => [e.details?.path, e.details?.change]).sort(), [
        [dropped, 'added'],
        [installed, 'changed'],
      ]);
      const d = reported.find((e) => e.details?.path === dropped)!;
      assert.equal(d.details?.sha256, sha(dropped));
      assert.equal(d.details?.size, readFileSync(dropped).length);
      assert.equal((d.details?.user as { uid: number }).uid, 0);
      // Reported once: a second check finds the same drift and says nothing new.
      assert.equal((await m.checkDisk()).reported, 0);
      // A check never approves anything: the dropped binary is still refused.
      assert.equal((await lab.sh(dropped)).code, 126);
      assert.equal((await lab.run(approved)).code, 0);
    } finally {
      await m.stop();
    }
  });

  test('a verdict that does not come in time is allowed and reported (fail-open)', async () => {
    const m = new AppControlModule({ decisionDelayMs: 3000 });
    const config = lab.config('prevent', { decisionTimeoutMs: 200 });
    await m.start(lab.context(config));
    try {
      await lab.ready(m);
      const slow = lab.binary('slow-verdict');
      const r = await lab.run(slow);
      assert.equal(r.code, 0);
      assert.ok(r.ms >= 150 && r.ms < 2500, `ran after ${r.ms} ms`);
      assert.ok(await lab.waitForEvent('app-control.decision-timeout', (e) => e.details?.path === slow));
    } finally {
      await m.stop();
    }
  });
});
