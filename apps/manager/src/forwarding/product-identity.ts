/** How Palisade names itself in CEF/LEEF headers and syslog APP-NAME. */
export const PRODUCT = { vendor: 'Palisade', product: 'Palisade Manager', version: '0.1.0', appName: 'palisade' } as const;
