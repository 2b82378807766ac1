import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/build-app.ts';
import { CloudConnector } from '../cloud/cloud-connector.ts';
import { SecretBox } from '../cloud/secret-box.ts';
import { PlaybookEngine } from '../playbooks/playbook-engine.ts';
import { createManagerMetrics } from '../http/manager-metrics.ts';
import { CommandNotifier } from '../services/command-notifier.ts';
import { HeartbeatWriter } from '../services/heartbeat-writer.ts';
import { PolicyChainCache } from '../services/policy-chain-cache.ts';
import { AdvisoryIndexCache } from '../recommendations/advisory-index-cache.ts';
import { RecommendationService } from '../recommendations/recommendation-service.ts';
import { RuleCatalog } from '../recommendations/rule-catalog.ts';
import { PRIMARY_TENANT, StoreProvider } from '../store/store-provider.ts';
import type { TestLocation } from './test-stores.ts';

export interface TestManager {
  app: FastifyInstance;
  recommendations: RecommendationService;
  stores: StoreProvider;
  adminKey: string;
  clock: { now: Date };
  /** Response playbooks (await `playbooks.idle()` after sending events) and the cloud connector. */
  playbooks: PlaybookEngine;
  cloud: CloudConnector;
  /** JSON request with an API key (or none). */
  call(method: string, url: string, opts?: { key?: string | null; body?: unknown; agent?: string }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A manager API in-process (Fastify inject) on a fresh installation of the given backend. */
export async function testManager(loc: TestLocation, opts: { rulesDir?: string; awsEndpoint?: string } = {}): Promise<TestManager> {
  const clock = { now: new Date() };
  const stores = await StoreProvider.open(loc.location, () => clock.now);
  const catalog = RuleCatalog.load(opts.rulesDir);
  const recommendations = new RecommendationService(new AdvisoryIndexCache(stores), catalog);
  const closing = new AbortController();
  const heartbeats = new HeartbeatWriter(50);
  const notifier = new CommandNotifier();
  // AWS calls go to the given (fake) endpoint, never to AWS, and fail fast.
  const cloud = new CloudConnector(SecretBox.random(), { ...(opts.awsEndpoint ? { endpoint: opts.awsEndpoint } : {}), maxAttempts: 1 });
  const playbooks = new PlaybookEngine({ connector: cloud, notify: (id) => notifier.notify(id), clock: () => clock.now });
  const app = await buildApp({
    stores,
    notifier,
    cloud,
    playbooks,
    metrics: createManagerMetrics(),
    closing: closing.signal,
    policyCache: new PolicyChainCache(),
    recommendations,
    catalog,
    heartbeats,
  });
  const { secret: adminKey } = await (await stores.tenant(PRIMARY_TENANT))!.apiKeys.create('test admin', 'admin');
  const call: TestManager['call'] = async (method, url, opts = {}) => {
    const headers: Record<string, string> = {};
    const key = opts.key === undefined ? adminKey : opts.key;
    if (key) headers.authorization = `Bearer ${key}`;
    if (opts.agent) headers.authorization = `Agent ${opts.agent}`;
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    let body: unknown = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {}
    return { status: res.statusCode, body };
  };
  return {
    app,
    recommendations,
    stores,
    adminKey,
    clock,
    call,
    playbooks,
    cloud,
    close: async () => {
      closing.abort();
      await playbooks.stop();
      await app.close();
      await heartbeats.close();
      await stores.close();
      await loc.cleanup();
    },
  };
}

export const sampleHost = (hostname = 'web-1') => ({
  hostname,
  platform: 'linux/debian 12',
  ips: ['10.0.0.5'],
  agentVersion: '0.1.0',
});
