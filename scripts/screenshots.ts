// `npm run screenshots`: starts a small real installation (manager, two agents, a vulnerable
// Struts war behind the IPS proxy), drives the web console with Debian's Chromium and saves one
// screenshot per main page to docs/screenshots/. Nothing is mocked: the pages show what the
// manager really holds after the same steps the browser test takes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumMissing, consolePage, launchChromium, logIn, startConsoleFixture } from '../e2e/console-fixture.ts';
import { repoRoot, waitFor } from '../e2e/support/real-processes.ts';

const missing = chromiumMissing();
if (missing) {
  process.stderr.write(`screenshots: ${missing}\n`);
  process.exit(1);
}
const outDir = join(repoRoot, 'docs/screenshots');
mkdirSync(outDir, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'palisade-screenshots-'));
const fx = await startConsoleFixture(dir);
const browser = await launchChromium();
try {
  const { client } = fx.manager;
  const web = fx.web.agentId;
  // The real GitHub advisory for S2-045, when the shared OSV sample is there: the vulnerabilities
  // tab then lists the CVE next to its virtual patch.
  const ghsa = join(repoRoot, '../shared/osv-sample/github-advisory-database/GHSA-j77q-2qqg-6989.json');
  if (existsSync(ghsa)) await client.importVulnerabilityData({ source: 'osv-sample', records: [JSON.parse(readFileSync(ghsa, 'utf8'))] });
  fx.writeWar('2.3.31');
  await fx.sendInventory(web);
  await client.createSmartFolder({ name: 'Java servers', query: { all: [{ field: 'policy', op: 'equals', value: 'Java apps' }] } });
  await client.createToken({ description: 'web tier autoscaling', policyId: fx.javaPolicyId, ttlSeconds: 7 * 86400, maxUses: 50 });
  await client.createApiKey({ name: 'SIEM export (read only)', role: 'auditor' });
  await client
    .createPlaybook({
      name: 'Block web attackers',
      description: 'Three blocked requests from one address in five minutes: block it on the web servers for an hour',
      enabled: false,
      trigger: { filter: { modules: ['ips'], types: ['ips.blocked'] }, threshold: 3, windowSeconds: 300, groupBy: 'attacker' },
      actions: [
        {
          type: 'firewall-block-ip',
          targets: { smartFolderId: (await client.listSmartFolders()).smartFolders[0]!.id },
          durationSeconds: 3600,
        },
      ],
    })
    .catch((err: Error) => process.stderr.write(`playbook not created: ${err.message}\n`));
  await client.applyRecommendations(web);
  await waitFor('the exploit blocked by the assigned patch', async () => (await fx.sendExploit()) === 403, 90_000, 1000);
  await waitFor('IPS events at the manager', async () => (await client.listEvents({ module: 'ips' })).events.length > 0, 60_000, 500);
  // A second scan after the apply so the page shows the state a person sees the next day.
  await client.scanRecommendations(web, {});
  await waitFor('both agents online', async () => (await client.listComputers({ status: 'online' })).computers.length === 2, 60_000, 500);

  const { page } = await consolePage(browser, fx.manager.url);
  const shot = async (name: string, ready: (p: Page) => Promise<unknown>) => {
    await ready(page);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
    process.stdout.write(`docs/screenshots/${name}.png\n`);
  };
  const go = (path: string) => page.goto(`${fx.manager.url}${path}`);
  const ev = (await client.listEvents({ module: 'ips' })).events[0]!;
  const folder = (await client.listSmartFolders()).smartFolders[0]!;

  await shot('login', (p) => p.goto(`${fx.manager.url}/`));
  await logIn(page, fx.manager.url, fx.manager.adminKey);
  await shot('dashboard', async (p) => {
    await go('/');
    await p.getByTestId('count-events').filter({ hasNotText: '…' }).waitFor();
    await p.locator('.recharts-surface').first().waitFor();
  });
  await shot('computers', async (p) => {
    await go('/computers');
    await p.getByTestId('computer-count').waitFor();
  });
  await shot('computer-overview', async (p) => {
    await go(`/computers/${encodeURIComponent(web)}`);
    await p.getByRole('heading', { name: 'Modules' }).waitFor();
  });
  await shot('computer-vulnerabilities', async (p) => {
    await go(`/computers/${encodeURIComponent(web)}?tab=vulnerabilities`);
    await p.getByText(/Latest recommendation scan/).waitFor();
  });
  await shot('computer-effective-config', async (p) => {
    await go(`/computers/${encodeURIComponent(web)}?tab=config`);
    await p.getByTestId('config-hash').waitFor();
  });
  await shot('smart-folder', async (p) => {
    await go(`/smart-folders/${encodeURIComponent(folder.id)}`);
    await p.getByTestId('member-count').waitFor();
  });
  await shot('policies', async (p) => {
    await go(`/policies/${encodeURIComponent(fx.javaPolicyId)}`);
    await p.getByLabel('Heartbeat (seconds)').waitFor();
  });
  await shot('events', async (p) => {
    await go('/events');
    await p.getByTestId('event-count').waitFor();
  });
  await shot('event-detail', async (p) => {
    await go(`/events/${encodeURIComponent(ev.id)}`);
    await p.getByTestId('event-cves').waitFor();
  });
  await shot('recommendations', async (p) => {
    await go(`/computers/${encodeURIComponent(web)}?tab=recommendations`);
    await p.getByTestId('assigned-rules').waitFor();
  });
  await shot('activation-tokens', async (p) => {
    await go('/activation-tokens');
    await p.getByRole('table').waitFor();
  });
  await shot('api-keys', async (p) => {
    await go('/api-keys');
    await p.getByRole('table').waitFor();
  });
  for (const [name, path] of [
    ['playbooks', '/playbooks'],
    ['forwarders', '/forwarders'],
    ['cloud-accounts', '/cloud-accounts'],
    ['tenants', '/tenants'],
  ] as const)
    await shot(name, async (p) => {
      await go(path);
      await p.getByRole('table').first().waitFor();
    });
  await page.setViewportSize({ width: 420, height: 860 });
  await shot('dashboard-narrow', async (p) => {
    await go('/');
    await p.getByTestId('count-events').filter({ hasNotText: '…' }).waitFor();
  });
} finally {
  await browser.close();
  await fx.stop();
  rmSync(dir, { recursive: true, force: true });
}
