import type { Command } from '@commander-js/extra-typings';

/** Offline commands of this area; filled in by the module's work. */
export function registerIpsCommands(_program: Command): void {}
