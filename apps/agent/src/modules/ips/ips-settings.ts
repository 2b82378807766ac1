import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '@palisade/diagnostics';
import type { ModuleConfig } from '@palisade/protocol';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { parseTrustedProxies } from './client-address.ts';

const Endpoint = Type.Object(
  { host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 0, maximum: 65535 }) },
  { additionalProperties: false },
);

export const ServiceSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' }),
    listen: Endpoint,
    upstream: Endpoint,
    /** TLS termination: PEM files read when the proxy starts. */
    tls: Type.Optional(
      Type.Object({ certFile: Type.String({ minLength: 1 }), keyFile: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    ),
    /** Overrides the module mode for this service. */
    mode: Type.Optional(Type.Union([Type.Literal('off'), Type.Literal('detect'), Type.Literal('prevent')])),
    /**
     * Transparent mode (root + nftables): inbound TCP to `port` is redirected to the proxy, so
     * clients keep talking to the service's own address and port.
     */
    transparent: Type.Optional(Type.Object({ port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: false })),
    /** Virtual patch folder ids assigned to this service (default: every patch the module loads). */
    patches: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const IpsSettingsSchema = Type.Object(
  {
    /**
     * Virtual patches the manager's recommendation scans (or an operator) assigned to this
     * computer. They add to the policy's `ruleSets.patches`, which may select none of the pack.
     */
    assignedRules: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10_000 })),
    /** Absent or empty: nothing to protect yet; the module runs and says so. */
    services: Type.Optional(Type.Array(ServiceSchema, { maxItems: 64 })),
    paranoia: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
    ruleSets: Type.Optional(
      Type.Object(
        {
          crs: Type.Optional(Type.Object({ dir: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
          patches: Type.Optional(
            Type.Object(
              { dir: Type.Optional(Type.String({ minLength: 1 })), only: Type.Optional(Type.Array(Type.String())) },
              { additionalProperties: false },
            ),
          ),
          seclang: Type.Optional(
            Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), text: Type.String() }, { additionalProperties: false })),
          ),
          crowdsec: Type.Optional(
            Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), yaml: Type.String() }, { additionalProperties: false })),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** Per-rule overrides: `disable` removes the rule, `detect` lets its matches pass and reports them. */
    overrides: Type.Optional(
      Type.Array(
        Type.Object(
          { ruleId: Type.Integer({ minimum: 1 }), action: Type.Union([Type.Literal('disable'), Type.Literal('detect')]) },
          { additionalProperties: false },
        ),
      ),
    ),
    /** Exclusions: the rules do not run (or do not look at `targets`) for requests under `pathPrefix`. */
    exclusions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            ruleIds: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }),
            pathPrefix: Type.Optional(Type.String({ pattern: '^/' })),
            targets: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z_]+(?::[^\\s,;"]+)?$' }))),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    /** CRS method enforcement (911100); REST APIs need PUT/PATCH/DELETE, CRS's default does not allow them. */
    allowedMethods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{3,16}$' }), { minItems: 1 })),
    trustedProxies: Type.Optional(Type.Array(Type.String())),
    blockStatus: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
    blockPage: Type.Optional(Type.String({ maxLength: 65536 })),
    /** On engine error: `open` forwards the request unchecked, `closed` answers 503. */
    failMode: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    bodyLimit: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1073741824 })),
    bodyLimitAction: Type.Optional(Type.Union([Type.Literal('Reject'), Type.Literal('ProcessPartial')])),
    eventWindowSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** Run the engine in a worker thread with a time budget per request (else in the proxy's thread). */
    engineWorker: Type.Optional(Type.Object({ timeoutMs: Type.Integer({ minimum: 10, maximum: 60000 }) }, { additionalProperties: false })),
    matchedDataMax: Type.Optional(Type.Integer({ minimum: 0, maximum: 4096 })),
  },
  { additionalProperties: false },
);
export type IpsSettingsInput = Static<typeof IpsSettingsSchema>;
export type IpsServiceSettings = Static<typeof ServiceSchema>;

/** The pack shipped with this agent: the default when a policy assigns patches without a dir. */
export const BUNDLED_PATCH_DIR = fileURLToPath(new URL('../../../../../rules/ips', import.meta.url));

export interface IpsRuleSets {
  crs?: { dir: string };
  patches?: { dir: string; only?: string[] };
  seclang?: { name: string; text: string }[];
  crowdsec?: { name: string; yaml: string }[];
}

export interface IpsSettings {
  mode: 'off' | 'detect' | 'prevent';
  services: IpsServiceSettings[];
  paranoia: number;
  ruleSets: IpsRuleSets;
  overrides: NonNullable<IpsSettingsInput['overrides']>;
  exclusions: NonNullable<IpsSettingsInput['exclusions']>;
  trustedProxies: string[];
  allowedMethods: string[];
  blockStatus: number;
  blockPage: string;
  failMode: 'open' | 'closed';
  bodyLimit: number;
  bodyLimitAction: 'Reject' | 'ProcessPartial';
  eventWindowSeconds: number;
  engineWorker?: { timeoutMs: number };
  matchedDataMax: number;
}

export const DEFAULT_BLOCK_PAGE =
  '<!doctype html><title>Request blocked</title><h1>Request blocked</h1><p>This request was blocked by the host intrusion prevention system. Reference: {{ref}}</p>\n';

const FILE = 'modules.ips';

/** Validates `settings` (pure: no file is opened, directories are checked when the module starts). */
/**
 * The patches to load: the policy's selection (the whole pack, or an `only` list) plus the ones
 * assigned to this computer. With no policy selection, exactly the assigned ones, so removing an
 * assignment removes the patch.
 */
export function effectivePatches(
  configured: { dir?: string; only?: string[] } | undefined,
  assigned: readonly string[],
): { dir: string; only?: string[] } | undefined {
  const dir = configured?.dir ?? BUNDLED_PATCH_DIR;
  if (configured && !configured.only) return { dir };
  if (!configured && assigned.length === 0) return undefined;
  return { dir, only: [...new Set([...(configured?.only ?? []), ...assigned])].sort() };
}

export function parseIpsSettings(config: ModuleConfig): { settings?: IpsSettings; diagnostics: Diagnostic[] } {
  const s = config.settings;
  if (!Value.Check(IpsSettingsSchema, s)) {
    return {
      diagnostics: Value.Errors(IpsSettingsSchema, s)
        .slice(0, 20)
        .map((e) => ({
          code: 'IPS_SETTINGS_INVALID',
          message: `settings${e.instancePath}: ${e.message}`,
          severity: 'error' as const,
          file: FILE,
        })),
    };
  }
  const services = s.services ?? [];
  const patches = effectivePatches(s.ruleSets?.patches, s.assignedRules ?? []);
  const { patches: _configuredPatches, ...otherRuleSets } = s.ruleSets ?? {};
  const diagnostics: Diagnostic[] = [];
  const names = new Set<string>();
  const listens = new Set<string>();
  for (const svc of services) {
    if (names.has(svc.name))
      diagnostics.push({ code: 'IPS_SETTINGS_INVALID', message: `service name ${svc.name} is used twice`, severity: 'error', file: FILE });
    names.add(svc.name);
    const l = `${svc.listen.host}:${svc.listen.port}`;
    if (svc.listen.port !== 0 && listens.has(l))
      diagnostics.push({ code: 'IPS_SETTINGS_INVALID', message: `two services listen on ${l}`, severity: 'error', file: FILE });
    listens.add(l);
    if (svc.transparent && svc.listen.port === 0)
      diagnostics.push({
        code: 'IPS_SETTINGS_INVALID',
        message: `service ${svc.name}: transparent mode needs a fixed listen port`,
        severity: 'error',
        file: FILE,
      });
    if (svc.transparent && svc.transparent.port === svc.listen.port)
      diagnostics.push({
        code: 'IPS_SETTINGS_INVALID',
        message: `service ${svc.name}: the proxy cannot listen on the redirected port`,
        severity: 'error',
        file: FILE,
      });
    if (svc.listen.port !== 0 && svc.listen.host === svc.upstream.host && svc.listen.port === svc.upstream.port)
      diagnostics.push({ code: 'IPS_SETTINGS_INVALID', message: `service ${svc.name} proxies to itself`, severity: 'error', file: FILE });
  }
  const { invalid } = parseTrustedProxies(s.trustedProxies ?? []);
  for (const i of invalid)
    diagnostics.push({
      code: 'IPS_SETTINGS_INVALID',
      message: `trustedProxies: ${i} is not an address or CIDR`,
      severity: 'error',
      file: FILE,
    });
  if (services.length && !s.ruleSets?.crs && !patches && !s.ruleSets?.seclang?.length && !s.ruleSets?.crowdsec?.length) {
    diagnostics.push({
      code: 'IPS_NO_RULES',
      message: 'services are protected but no rule set is selected',
      severity: 'error',
      file: FILE,
    });
  }
  if (diagnostics.length) return { diagnostics };
  return {
    diagnostics,
    settings: {
      mode: config.mode,
      services,
      paranoia: s.paranoia ?? 1,
      ruleSets: {
        ...otherRuleSets,
        ...(patches ? { patches } : {}),
      } as IpsRuleSets,
      overrides: s.overrides ?? [],
      exclusions: s.exclusions ?? [],
      trustedProxies: s.trustedProxies ?? [],
      allowedMethods: s.allowedMethods ?? ['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'],
      blockStatus: s.blockStatus ?? 403,
      blockPage: s.blockPage ?? DEFAULT_BLOCK_PAGE,
      failMode: s.failMode ?? 'open',
      bodyLimit: s.bodyLimit ?? 1048576,
      bodyLimitAction: s.bodyLimitAction ?? 'Reject',
      eventWindowSeconds: s.eventWindowSeconds ?? 60,
      matchedDataMax: s.matchedDataMax ?? 200,
      ...(s.engineWorker ? { engineWorker: s.engineWorker } : {}),
    },
  };
}
