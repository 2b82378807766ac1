import { EVENT_SOURCES } from '@palisade/protocol';
import { AgentError } from './agent-error.ts';
import type { AgentModule } from './agent-module.ts';

/**
 * The modules this agent build carries. It starts empty: each protection module registers
 * itself when it exists, and the heartbeat reports exactly what is registered here.
 */
export class ModuleRegistry {
  private readonly modules = new Map<string, AgentModule>();

  register(module: AgentModule): this {
    if (!(EVENT_SOURCES as readonly string[]).includes(module.name) || module.name === 'system') {
      throw new AgentError(
        'AGENT_MODULE_NAME_INVALID',
        `module name ${JSON.stringify(module.name)} is not one of the protocol's module names`,
      );
    }
    if (this.modules.has(module.name)) {
      throw new AgentError('AGENT_MODULE_DUPLICATE', `module ${module.name} is registered twice`);
    }
    this.modules.set(module.name, module);
    return this;
  }

  get(name: string): AgentModule | undefined {
    return this.modules.get(name);
  }

  list(): AgentModule[] {
    return [...this.modules.values()];
  }

  get size(): number {
    return this.modules.size;
  }
}
