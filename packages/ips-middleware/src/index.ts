export { type InspectedRequest, type InspectionVerdict, inspectRequest, RequestInspector } from './request-inspector.ts';
