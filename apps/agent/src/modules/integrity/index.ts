export { IntegrityModule } from './integrity-module.ts';
export { BUNDLED_RULE_FILE, type IntegritySettings, IntegritySettingsSchema, parseIntegritySettings } from './integrity-settings.ts';
