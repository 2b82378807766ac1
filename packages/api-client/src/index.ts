export { ApiClientError } from './api-client-error.ts';
export { type ApiTransport, fetchTransport } from './api-transport.ts';
export {
  type ActivationToken,
  type ApiKey,
  type Command,
  type Computer,
  type Event,
  PalisadeClient,
  type PalisadeClientOptions,
  type Policy,
  type Role,
  type SmartFolder,
  type Tenant,
} from './palisade-client.ts';
