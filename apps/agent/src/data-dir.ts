import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where the agent keeps its identity, spool and socket. A root agent is a system service and
 * lives in /var/lib; a non-root agent (development, quickstart) must not need root to write.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PALISADE_AGENT_DATA_DIR) return resolve(env.PALISADE_AGENT_DATA_DIR);
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/palisade-agent';
  return join(homedir(), '.palisade-agent');
}

export function resolveDataDir(explicit?: string): string {
  return explicit ? resolve(explicit) : defaultDataDir();
}

export interface DataDirPaths {
  root: string;
  identity: string;
  ca: string;
  spool: string;
  socket: string;
  config: string;
  modules: string;
}

export function dataDirPaths(root: string): DataDirPaths {
  return {
    root,
    identity: join(root, 'agent.json'),
    ca: join(root, 'manager-ca.pem'),
    spool: join(root, 'spool.sqlite'),
    socket: join(root, 'agent.sock'),
    config: join(root, 'config.json'),
    modules: join(root, 'modules'),
  };
}

/** 0700: the directory holds the agent secret and the control socket. */
export function ensureDataDir(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}
