export { type CollectOptions, collectInventory, DEFAULT_APP_DIRS } from './collect-inventory.ts';
export { readProcesses } from './read-processes.ts';
export { readRpmDatabase } from './read-rpm-database.ts';
export { readSocketOwners, type SocketOwner } from './read-socket-owners.ts';
