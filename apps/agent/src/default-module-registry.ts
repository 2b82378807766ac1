import { ModuleRegistry } from './module-registry.ts';
import { IpsModule } from './modules/ips/ips-module.ts';

/** What a module factory may need to know about the agent it runs in. */
export interface ModuleEnvironment {
  /** The manager the agent talks to (e.g. so the firewall can always keep it reachable). */
  managerUrl: string;
  dataDir: string;
}

/**
 * The modules `palisade agent start` runs: the one place where a protection module is added
 * once it works end to end. Nothing is registered before that, so the heartbeat never reports
 * protection that is not there.
 */
export function defaultModuleRegistry(_env: ModuleEnvironment): ModuleRegistry {
  return new ModuleRegistry().register(new IpsModule());
}
