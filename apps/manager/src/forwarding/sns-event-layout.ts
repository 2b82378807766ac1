import type { EventSource } from '@palisade/protocol';
import { eventFields } from './event-fields.ts';
import type { ForwardedEvent } from './forwarded-event.ts';
import { SEVERITY_MAPPING } from './severity-mapping.ts';
import { signatureId } from './signature-ids.ts';

/**
 * EventType names of the commercial product's SNS/JSON export, so subscriptions, Lambda
 * functions and SIEM parsers written for it route Palisade's events the same way.
 */
export const SNS_EVENT_TYPES: Record<EventSource, string> = {
  system: 'SystemEvent',
  'anti-malware': 'AntiMalwareEvent',
  ips: 'PayloadLog',
  firewall: 'PacketLog',
  'log-inspection': 'LogInspectionEvent',
  integrity: 'IntegrityEvent',
  'app-control': 'AppControlEvent',
  'web-reputation': 'WebReputationEvent',
};

type Json = string | number | boolean | null | string[] | Record<string, unknown>;

/** Drops absent values so every record carries only what the event knows. */
function compact(o: Record<string, Json | undefined>): Record<string, Json> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, Json>;
}

/** One event in the SNS/JSON layout (also the `json` syslog format and the webhook body). */
export function snsEventRecord(e: ForwardedEvent): Record<string, Json> {
  const f = eventFields(e);
  const d = (e.details ?? {}) as Record<string, unknown>;
  const sev = SEVERITY_MAPPING[e.severity];
  const common = {
    EventType: SNS_EVENT_TYPES[e.module] ?? 'SystemEvent',
    EventID: e.id,
    LogDate: new Date(Date.parse(e.time)).toISOString(),
    HostID: e.computerId,
    Hostname: e.hostname,
    HostGroupName: e.group ?? undefined,
    HostInstanceID: e.instanceId ?? undefined,
    TenantID: e.tenantId,
    Origin: 'Agent',
    Severity: sev.sns,
    SeverityString: sev.label,
    SignatureID: signatureId(e.module, e.type, e.ruleId),
    PalisadeModule: e.module,
    PalisadeType: e.type,
    Description: e.message,
  };
  switch (e.module) {
    case 'anti-malware':
      return compact({
        ...common,
        MalwareName: f.malwareName,
        InfectedFilePath: f.filePath,
        FileSHA256: f.fileHash,
        ScanResultString: f.action,
        ScanType: typeof d.scanType === 'string' ? d.scanType : undefined,
      });
    case 'ips':
      return compact({
        ...common,
        Reason: typeof d.msg === 'string' ? d.msg : e.message,
        RuleID: e.ruleId,
        SourceIP: f.src,
        ActionString: f.action,
        RequestLine: f.requestLine,
        CVEs: f.cves,
        RepeatCount: f.count,
      });
    case 'firewall':
      return compact({
        ...common,
        Reason: e.ruleId,
        SourceIP: f.src,
        SourcePort: f.srcPort,
        DestinationIP: f.dst,
        DestinationPort: f.dstPort,
        Protocol: f.proto,
        ActionString: f.action,
        RepeatCount: f.count,
      });
    case 'log-inspection':
      return compact({
        ...common,
        OSSEC_RuleID: e.ruleId,
        OSSEC_Level: typeof d.level === 'number' ? d.level : undefined,
        OSSEC_Description: e.message,
        OSSEC_Log: typeof d.log === 'string' ? d.log : undefined,
        OSSEC_Location: typeof d.location === 'string' ? d.location : undefined,
        OSSEC_Groups: Array.isArray(d.groups) ? d.groups.filter((g): g is string => typeof g === 'string') : undefined,
      });
    case 'integrity':
      return compact({
        ...common,
        Key: f.filePath ?? (typeof d.key === 'string' ? d.key : undefined),
        Change: typeof d.change === 'string' ? d.change : f.action,
        RuleID: e.ruleId,
      });
    case 'app-control':
      return compact({ ...common, FileName: f.filePath, SHA256: f.fileHash, ActionString: f.action });
    case 'web-reputation':
      return compact({
        ...common,
        URL: f.url,
        Risk: typeof d.risk === 'number' ? d.risk : undefined,
        RiskString: typeof d.riskLevel === 'string' ? d.riskLevel : undefined,
        ActionString: f.action,
      });
    default:
      return compact({ ...common, RuleID: e.ruleId });
  }
}
