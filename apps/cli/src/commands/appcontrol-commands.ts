import type { Command } from '@commander-js/extra-typings';

/** Offline commands of this area; filled in by the module's work. */
export function registerAppcontrolCommands(_program: Command): void {}
