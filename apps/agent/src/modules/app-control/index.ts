export { AppControlModule, type AppControlModuleOptions } from './app-control-module.ts';
export { type AppControlSettings, AppControlSettingsSchema, parseAppControlSettings } from './app-control-settings.ts';
export { GATE_BINARY, type GateProbe, probeGate } from './gate-binary.ts';
