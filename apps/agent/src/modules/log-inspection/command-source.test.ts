import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandRunner, type CommandSpec } from './command-source.ts';

const spec = (script: string, over: Partial<CommandSpec> = {}): CommandSpec => ({
  command: [process.execPath, '-e', script],
  alias: 'probe',
  intervalMs: 3_600_000,
  mode: 'full',
  timeoutMs: 20_000,
  maxOutputBytes: 65_536,
  ...over,
});

async function settle(r: CommandRunner, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (r.status().some((s) => s.running)) {
    if (Date.now() > end) throw new Error('the command did not finish');
    await new Promise((res) => setTimeout(res, 25));
  }
}

test('a command that runs past its timeout is killed with what it started; its output so far is used', async () => {
  // The command starts a grandchild that would outlive it: the whole process group goes.
  const script =
    "const {spawn}=require('child_process');const c=spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'});" +
    "console.log('child '+c.pid);setInterval(()=>{},1000);";
  const r = new CommandRunner([spec(script, { timeoutMs: 1000 })]);
  r.tick();
  await settle(r);
  const [ev] = r.take(10);
  assert.ok(ev, 'the output before the timeout is an event');
  const pid = Number(/child (\d+)/.exec(ev.text)?.[1]);
  assert.ok(pid > 0);
  assert.match(r.status()[0]!.lastError ?? '', /timed out after 1000 ms/);
  // The grandchild is gone too (SIGKILL to the group; allow the kernel a moment to reap it).
  const end = Date.now() + 10_000;
  for (;;) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) break;
    assert.ok(Date.now() < end, `grandchild ${pid} still alive`);
    await new Promise((res) => setTimeout(res, 50));
  }
});

test('output beyond the limit is cut and the command ended; a failing command is reported', async () => {
  const r = new CommandRunner([
    spec("process.stdout.write('x'.repeat(100000));setInterval(()=>{},1000)", { maxOutputBytes: 256, alias: 'big' }),
    spec("console.log('partial');console.error('disk on fire');process.exit(3)", { alias: 'fails' }),
    spec('', { command: ['/nonexistent/palisade-test-binary'], alias: 'missing' }),
  ]);
  r.tick();
  await settle(r);
  const events = r.take(10);
  const big = events.find((e) => e.alias === 'big');
  assert.equal(big?.text, `ossec: output: 'big':\n${'x'.repeat(256)}`);
  assert.equal(big?.location, 'command_big');
  const status = Object.fromEntries(r.status().map((s) => [s.alias, s.lastError ?? '']));
  assert.match(status.big!, /output cut at 256 bytes/);
  assert.match(status.fails!, /exited with 3: disk on fire/);
  assert.match(status.missing!, /cannot start/);
  // A failing command's output still counts (Wazuh sends it too).
  assert.equal(events.find((e) => e.alias === 'fails')?.text, "ossec: output: 'fails':\npartial");
  assert.equal(events.filter((e) => e.alias === 'missing').length, 0);
});

test('interval: a command runs again only when due and never overlaps itself', async () => {
  let now = 1_000_000;
  const r = new CommandRunner([spec("console.log('tick')", { intervalMs: 60_000, mode: 'lines' })], () => now);
  r.tick();
  r.tick(); // still running: no second instance
  await settle(r);
  r.tick(); // not due yet
  await settle(r);
  assert.deepEqual(
    r.take(10).map((e) => e.text),
    ["ossec: output: 'probe': tick"],
  );
  now += 60_000;
  r.tick();
  await settle(r);
  assert.equal(r.take(10).length, 1);
  assert.equal(r.status()[0]!.runs, 2);
  await r.stop();
});

test('a command whose daemonised child keeps the output pipe open still ends at the timeout', async () => {
  // setsid: the grandchild leaves the process group (the group kill misses it) but inherits stdout.
  const script =
    "const {spawn}=require('child_process');const c=spawn(process.execPath,['-e','setTimeout(()=>{},60000)'],{stdio:['ignore','inherit','ignore'],detached:true});" +
    "console.log('daemon '+c.pid);c.unref();setInterval(()=>{},1000);";
  const r = new CommandRunner([spec(script, { timeoutMs: 1000 })]);
  r.tick();
  await settle(r);
  const [ev] = r.take(10);
  const pid = Number(/daemon (\d+)/.exec(ev?.text ?? '')?.[1]);
  assert.ok(pid > 0);
  process.kill(pid, 'SIGKILL');
  assert.match(r.status()[0]!.lastError ?? '', /timed out/);
});
