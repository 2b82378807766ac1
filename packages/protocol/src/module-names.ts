/** The agent's protection modules, plus `system` for the agent's own events. */
export const MODULE_NAMES = ['anti-malware', 'ips', 'firewall', 'log-inspection', 'integrity', 'app-control', 'web-reputation'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

export const EVENT_SOURCES = ['system', ...MODULE_NAMES] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/** Module modes: `detect` only reports, `prevent` blocks/quarantines/enforces. */
export const MODULE_MODES = ['off', 'detect', 'prevent'] as const;
export type ModuleMode = (typeof MODULE_MODES)[number];

/**
 * What a module reports about itself. `unsupported` means the host lacks a capability the module
 * needs (not root, no nftables, ...): the module is off for a reason, not broken.
 */
export const MODULE_STATES = ['off', 'starting', 'running', 'unsupported', 'error'] as const;
export type ModuleState = (typeof MODULE_STATES)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const COMPUTER_STATUSES = ['online', 'offline', 'warning', 'error'] as const;
export type ComputerStatus = (typeof COMPUTER_STATUSES)[number];
