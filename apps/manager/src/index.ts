export { buildApp } from './http/build-app.ts';
export { createManagerMetrics } from './http/manager-metrics.ts';
export { type ManagerOptions, type RunningManager, DEFAULT_MANAGER_PORT, startManager } from './manager-server.ts';
export { CommandNotifier } from './services/command-notifier.ts';
export { quickstartPolicySettings } from './config/default-config.ts';
export { PRIMARY_TENANT, StoreProvider } from './store/store-provider.ts';
export { parseStoreLocation } from './store/store-location.ts';
export { dropPostgresInstallation } from './store/database-factory.ts';
export { StartupSequence, type StartupStep } from './startup-steps.ts';
