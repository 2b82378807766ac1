import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../apps/cli/src/commands/console-build.ts';
import {
  type AgentProcess,
  freePort,
  type ManagerProcess,
  repoRoot,
  startAgentProcess,
  startManagerProcess,
  waitFor,
} from './support/real-processes.ts';
import { statusThroughProxy } from './support/status-through-proxy.ts';

/**
 * A small real installation for the console's browser test and the screenshot script: a manager
 * process serving the console, two agents (one on a "Java apps" policy with the IPS proxy in
 * prevent mode in front of a local upstream, one on a "Base" policy), and a Struts war whose
 * vulnerable jar makes a recommendation scan propose the CVE-2017-5638 virtual patch.
 */
export interface ConsoleFixture {
  manager: ManagerProcess;
  web: AgentProcess;
  base: AgentProcess;
  javaPolicyId: string;
  basePolicyId: string;
  appRoot: string;
  writeWar(strutsVersion: string): void;
  sendInventory(agentId: string): Promise<void>;
  /** The S2-045 exploit through the web agent's IPS proxy; resolves with the status code. */
  sendExploit(): Promise<number>;
  stop(): Promise<void>;
}

export const CHROMIUM_PATH = process.env.PALISADE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = (): string | false =>
  existsSync(CHROMIUM_PATH) ? false : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set PALISADE_CHROMIUM)`;

const exploit = JSON.parse(readFileSync(join(repoRoot, 'rules/ips/CVE-2017-5638/tests/exploit.jsonl'), 'utf8').split('\n')[0]!) as {
  method: string;
  uri: string;
  headers: Record<string, string>;
  body: string;
};

export async function startConsoleFixture(dir: string): Promise<ConsoleFixture> {
  const built = await ensureConsoleBuilt((line) => process.stderr.write(`${line}\n`));
  assert.ok(built === 'fresh' || built === 'built', `console build: ${built}`);
  const appRoot = join(dir, 'host');
  const upstream: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxyPort = await freePort();
  const manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  const ips = {
    enabled: true,
    mode: 'prevent' as const,
    settings: {
      services: [
        {
          name: 'shop',
          listen: { host: '127.0.0.1', port: proxyPort },
          upstream: { host: '127.0.0.1', port: (upstream.address() as { port: number }).port },
        },
      ],
      ruleSets: {
        seclang: [
          { name: 'canary', text: 'SecRuleEngine On\nSecRule REQUEST_URI "@streq /palisade-canary" "id:9599990,phase:1,deny,status:403"' },
        ],
      },
    },
  };
  // `report`: scans propose, a person applies (from the console).
  const java = await manager.client.createPolicy({
    name: 'Java apps',
    description: 'Struts shop behind the IPS proxy',
    settings: { heartbeatSeconds: 2, recommendations: 'report', modules: { ips } },
  });
  const basePolicy = await manager.client.createPolicy({ name: 'Base', settings: { heartbeatSeconds: 2 } });
  const [web, base] = await Promise.all([
    startAgentProcess(manager, join(dir, 'agent-web'), { policyId: java.id }),
    startAgentProcess(manager, join(dir, 'agent-base'), { policyId: basePolicy.id }),
  ]);

  const writeWar = (strutsVersion: string) => {
    const jar = zipSync({
      'META-INF/MANIFEST.MF': strToU8('Manifest-Version: 1.0\n'),
      'META-INF/maven/org.apache.struts/struts2-core/pom.properties': strToU8(
        `groupId=org.apache.struts\nartifactId=struts2-core\nversion=${strutsVersion}\n`,
      ),
    });
    const war = zipSync({ 'WEB-INF/web.xml': strToU8('<web-app/>'), [`WEB-INF/lib/struts2-core-${strutsVersion}.jar`]: jar });
    rmSync(join(appRoot, 'opt/shop'), { recursive: true, force: true });
    mkdirSync(join(appRoot, 'opt/shop'), { recursive: true });
    writeFileSync(join(appRoot, 'opt/shop/shop.war'), war);
  };
  const sendInventory = async (agentId: string) => {
    const cmd = await manager.client.sendCommand(agentId, { kind: 'send-inventory', args: { root: appRoot, appDirs: ['opt'] } });
    const done = await waitFor(
      'send-inventory result',
      async () => {
        const c = await manager.client.getCommand(cmd.id);
        return c.status === 'succeeded' || c.status === 'failed' ? c : undefined;
      },
      60_000,
      300,
    );
    assert.equal(done.status, 'succeeded', String(done.error));
  };
  const sendExploit = () =>
    statusThroughProxy(proxyPort, {
      method: exploit.method,
      path: exploit.uri,
      headers: { ...exploit.headers, host: 'shop.test' },
      body: exploit.body,
    });
  return {
    manager,
    web,
    base,
    javaPolicyId: java.id,
    basePolicyId: basePolicy.id,
    appRoot,
    writeWar,
    sendInventory,
    sendExploit,
    stop: async () => {
      upstream.close();
      await Promise.all([web.proc.stop(), base.proc.stop()]);
      await manager.proc.stop();
    },
  };
}

/** Debian's Chromium through playwright-core: no sandbox (root in CI), nothing that calls home. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A page of a fresh context that trusts the manager's own CA the way a person would: by accepting it. */
export async function consolePage(
  browser: Browser,
  managerUrl: string,
): Promise<{ context: BrowserContext; page: Page; elsewhere: string[] }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 850 }, colorScheme: 'light' });
  // The console must reach nothing but its manager (no CDN): anything else is recorded and refused.
  const elsewhere: string[] = [];
  await context.route(
    (u) => u.origin !== managerUrl && u.protocol !== 'data:' && u.protocol !== 'blob:',
    async (route) => {
      elsewhere.push(route.request().url());
      await route.abort();
    },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return { context, page, elsewhere };
}

export async function logIn(page: Page, url: string, apiKey: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByRole('tab', { name: 'Use an API key' }).click();
  await page.getByLabel('API key', { exact: true }).fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
}

/** Logs in as a console user (username and password of a tenant): the manager sets the session cookie. */
export async function logInWithPassword(
  page: Page,
  url: string,
  user: { tenant: string; username: string; password: string },
): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByRole('tab', { name: 'Username and password' }).click();
  await page.getByLabel('Tenant', { exact: true }).fill(user.tenant);
  await page.getByLabel('Username', { exact: true }).fill(user.username);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
}
