import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './http/build-app.ts';
import { createManagerMetrics } from './http/manager-metrics.ts';
import { ForwarderDispatcher } from './forwarding/forwarder-dispatcher.ts';
import { DriftIntake } from './app-control/drift-intake.ts';
import { CloudConnector } from './cloud/cloud-connector.ts';
import { cloudSyncJob, CloudSyncScheduler } from './cloud/cloud-sync-scheduler.ts';
import { SecretBox } from './cloud/secret-box.ts';
import { PlaybookEngine } from './playbooks/playbook-engine.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { ARTIFACT_DOWNLOAD_JOB, artifactDownloadJob } from './artifacts/artifact-service.ts';
import { AdvisoryIndexCache } from './recommendations/advisory-index-cache.ts';
import { RecommendationService } from './recommendations/recommendation-service.ts';
import { RuleCatalog } from './recommendations/rule-catalog.ts';
import { CommandNotifier } from './services/command-notifier.ts';
import { HeartbeatWriter } from './services/heartbeat-writer.ts';
import { ensureTenantDefaults } from './services/tenant-defaults.ts';
import { PolicyChainCache } from './services/policy-chain-cache.ts';
import { StartupSequence } from './startup-steps.ts';
import { PRIMARY_TENANT, StoreProvider } from './store/store-provider.ts';
import { describeStoreLocation, parseStoreLocation } from './store/store-location.ts';
import { ensureTlsMaterial } from './tls/certificate-authority.ts';

export interface ManagerOptions {
  dataDir: string;
  /** `sqlite` (default) or a postgres:// URL. */
  db?: string;
  host?: string;
  port?: number;
  /** HTTPS with the manager's own CA (default); false serves plain HTTP (tests, behind a TLS proxy). */
  tls?: boolean;
  logLevel?: string;
  jobPollMs?: number;
  /** Folder of Palisade's shipped rules (default: the repository's `rules/`). */
  rulesDir?: string;
  /**
   * One endpoint for every AWS API call (a VPC endpoint proxy, a test double); default: AWS's
   * public endpoints, or PALISADE_AWS_ENDPOINT.
   */
  awsEndpoint?: string;
}

export interface RunningManager {
  url: string;
  caCertFile: string | null;
  adminKeyFile: string;
  /** Set only when this start created the first admin key. */
  createdAdminKey: string | null;
  stores: StoreProvider;
  app: FastifyInstance;
  stop(): Promise<void>;
}

export const DEFAULT_MANAGER_PORT = 4119;

export async function startManager(opts: ManagerOptions): Promise<RunningManager> {
  const log = pino({ level: opts.logLevel ?? 'info', base: { component: 'manager' } });
  const steps = new StartupSequence((m) => log.info(m));
  const closing = new AbortController();
  const notifier = new CommandNotifier();
  const metrics = createManagerMetrics();
  const heartbeats = new HeartbeatWriter();
  const adminKeyFile = join(opts.dataDir, 'admin-api-key');
  let stores!: StoreProvider;
  let tls: ReturnType<typeof ensureTlsMaterial> | null = null;
  let app!: FastifyInstance;
  let runner!: JobRunner;
  let cloud!: CloudConnector;
  let playbooks!: PlaybookEngine;
  let cloudSync!: CloudSyncScheduler;
  let forwarders!: ForwarderDispatcher;
  let driftIntake!: DriftIntake;
  let createdAdminKey: string | null = null;
  let catalog!: RuleCatalog;
  let recommendations!: RecommendationService;
  let url = '';

  await steps.run([
    {
      name: `open storage (${describeStoreLocation(parseStoreLocation(opts.db, opts.dataDir))})`,
      run: async () => {
        stores = await StoreProvider.open(parseStoreLocation(opts.db, opts.dataDir));
      },
      undo: async () => stores.close(),
    },
    {
      name: 'bootstrap the first admin API key',
      run: async () => {
        const primary = (await stores.tenant(PRIMARY_TENANT))!;
        if ((await primary.apiKeys.list()).length > 0) return;
        const { secret } = await primary.apiKeys.create('bootstrap admin', 'admin');
        // Written once, readable by the owner only; the key is never shown by the API again.
        writeFileSync(adminKeyFile, `${secret}\n`, { mode: 0o600 });
        createdAdminKey = secret;
      },
    },
    {
      name: 'tenant defaults and rule catalog',
      run: async () => {
        for (const t of await stores.listTenants()) {
          const store = await stores.tenant(t.id);
          if (store) await ensureTenantDefaults(store);
        }
        catalog = RuleCatalog.load(opts.rulesDir);
        for (const p of catalog.problems) log.warn({ problem: p }, 'rule catalog');
        recommendations = new RecommendationService(new AdvisoryIndexCache(stores), catalog);
      },
    },
    {
      name: 'TLS material',
      run: async () => {
        if (opts.tls !== false) tls = ensureTlsMaterial(opts.dataDir, opts.host && opts.host !== '0.0.0.0' ? [opts.host] : []);
      },
    },
    {
      name: 'cloud connector and playbooks',
      run: async () => {
        // Cloud credentials are sealed with a key kept beside, not inside, the database.
        const endpoint = opts.awsEndpoint ?? process.env.PALISADE_AWS_ENDPOINT;
        cloud = new CloudConnector(SecretBox.loadOrCreate(join(opts.dataDir, 'secret-key')), endpoint ? { endpoint } : {});
        playbooks = new PlaybookEngine({ connector: cloud, notify: (id) => notifier.notify(id), log });
      },
    },
    {
      name: 'HTTP API',
      run: async () => {
        app = await buildApp(
          {
            stores,
            notifier,
            metrics,
            closing: closing.signal,
            policyCache: new PolicyChainCache(),
            recommendations,
            catalog,
            heartbeats,
            cloud,
            playbooks,
          },
          {
            loggerInstance: log.child({ component: 'http' }, { level: opts.logLevel === 'debug' ? 'debug' : 'warn' }) as never,
            https: tls ? { key: tls.key, cert: tls.cert } : null,
          },
        );
        const address = await app.listen({ host: opts.host ?? '0.0.0.0', port: opts.port ?? DEFAULT_MANAGER_PORT });
        const port = new URL(address).port;
        const host = !opts.host || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
        url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
      },
      undo: async () => {
        closing.abort();
        await app.close();
        await heartbeats.close();
      },
    },
    {
      name: 'job runner and scheduler',
      run: async () => {
        runner = new JobRunner(stores, {
          notify: (id) => notifier.notify(id),
          recommendations,
          log,
          handlers: { 'cloud-sync': cloudSyncJob(cloud), [ARTIFACT_DOWNLOAD_JOB]: artifactDownloadJob(stores.clock) },
          ...(opts.jobPollMs ? { pollMs: opts.jobPollMs } : {}),
        });
        runner.start();
      },
      undo: async () => runner.stop(),
    },
    {
      name: 'playbook expiries and periodic cloud sync',
      run: async () => {
        playbooks.start(stores);
        cloudSync = new CloudSyncScheduler(stores, { log });
        cloudSync.start();
      },
      undo: async () => {
        await cloudSync.stop();
        await playbooks.stop();
      },
    },
    {
      name: 'event forwarders',
      run: async () => {
        forwarders = new ForwarderDispatcher(stores, { log });
        forwarders.start();
      },
      undo: async () => forwarders.stop(),
    },
    {
      name: 'application control drift intake',
      run: async () => {
        driftIntake = new DriftIntake(stores, { log });
        driftIntake.start();
      },
      undo: async () => driftIntake.stop(),
    },
  ]);

  log.info({ url }, 'manager listening');
  return {
    url,
    caCertFile: tls ? (tls as { caCertFile: string }).caCertFile : null,
    adminKeyFile,
    createdAdminKey,
    stores,
    app,
    stop: () => steps.shutdown(),
  };
}

export function adminKeyExists(dataDir: string): boolean {
  return existsSync(join(dataDir, 'admin-api-key'));
}
