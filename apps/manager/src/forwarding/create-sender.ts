import type { EventSender } from './event-sender.ts';
import type { Forwarder, ForwarderSecrets, SnsSettings, SyslogSettings, WebhookSettings } from './forwarder-config.ts';
import { SnsSender } from './sns-sender.ts';
import { SyslogSender } from './syslog-sender.ts';
import { WebhookSender } from './webhook-sender.ts';

export function createSender(f: Pick<Forwarder, 'type' | 'settings'>, secrets: ForwarderSecrets, now: () => Date): EventSender {
  switch (f.type) {
    case 'syslog':
      return new SyslogSender(f.settings as SyslogSettings, secrets);
    case 'webhook':
      return new WebhookSender(f.settings as WebhookSettings, secrets, now);
    case 'sns':
      return new SnsSender(f.settings as SnsSettings, secrets);
  }
}
