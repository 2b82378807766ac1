import { isIP } from 'node:net';
import { ModuleRegistry } from './module-registry.ts';
import { AntiMalwareModule } from './modules/anti-malware/index.ts';
import { AppControlModule } from './modules/app-control/index.ts';
import { FirewallModule, kernelLog } from './modules/firewall/index.ts';
import { IntegrityModule } from './modules/integrity/index.ts';
import { IpsModule } from './modules/ips/ips-module.ts';
import { LogInspectionModule } from './modules/log-inspection/index.ts';
import { WebReputationModule } from './modules/web-reputation/index.ts';

/** What a module factory may need to know about the agent it runs in. */
export interface ModuleEnvironment {
  /** The manager the agent talks to (e.g. so the firewall can always keep it reachable). */
  managerUrl: string;
  dataDir: string;
}

/**
 * The manager as the firewall's failsafe needs it: an address literal and a port, or a host
 * name the firewall module resolves before each apply.
 */
function managerEndpoint(managerUrl: string): { address: string; port: number } | { host: string; port: number } {
  const url = new URL(managerUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return isIP(host) ? { address: host, port } : { host, port };
}

/**
 * The modules `palisade agent start` runs: the one place where a protection module is added
 * once it works end to end. Nothing is registered before that, so the heartbeat never reports
 * protection that is not there.
 */
export function defaultModuleRegistry(env: ModuleEnvironment): ModuleRegistry {
  const manager = managerEndpoint(env.managerUrl);
  return new ModuleRegistry()
    .register(new IpsModule())
    .register(new AntiMalwareModule())
    .register(new FirewallModule({ ...('address' in manager ? { manager } : { managerHost: manager }), logSource: kernelLog }))
    .register(new IntegrityModule())
    .register(new LogInspectionModule())
    .register(new AppControlModule())
    .register(new WebReputationModule());
}
