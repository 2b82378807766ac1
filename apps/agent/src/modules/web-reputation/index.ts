export { DnsFilter, type DnsFilterOptions } from './dns-filter.ts';
export { OutboundProxy, type OutboundProxyOptions, type WebVia } from './outbound-proxy.ts';
export { outboundRedirectScript } from './outbound-redirect.ts';
export { WebReputationModule, type WebReputationModuleOptions } from './web-reputation-module.ts';
export { parseWebReputationSettings, type WebReputationSettings, WebReputationSettingsSchema } from './web-reputation-settings.ts';
