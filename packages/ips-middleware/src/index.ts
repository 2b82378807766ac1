export { type AgentReporter, agentReporter } from './agent-reporter.ts';
export {
  type IpsMiddlewareOptions,
  IpsRequestGuard,
  ipsExpress,
  ipsFastify,
  ipsKoa,
  ipsNodeHandler,
  type MiddlewareDecision,
  type MiddlewareDetection,
} from './ips-middleware.ts';
export { type InspectedRequest, type InspectionVerdict, inspectRequest, RequestInspector } from './request-inspector.ts';
