import { type Static, Type } from 'typebox';

const Str = (max = 1000) => Type.String({ maxLength: max });

/**
 * The software inventory an agent reports (the `Inventory` document of `@palisade/vuln`):
 * packages with their OSV ecosystem, listening ports and running processes. The manager matches
 * it against vulnerability data and rule metadata in recommendation scans.
 */
export const InventoryReportSchema = Type.Object(
  {
    collectedAt: Type.String({ format: 'date-time' }),
    inventory: Type.Object({
      os: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      items: Type.Array(
        Type.Object({
          ecosystem: Str(100),
          name: Str(500),
          version: Str(200),
          purl: Str(2000),
          location: Str(4000),
          sourceName: Type.Optional(Str(500)),
          sourceVersion: Type.Optional(Str(200)),
        }),
        { maxItems: 200_000 },
      ),
      ports: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 10_000 }),
      processes: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 10_000 })),
      diagnostics: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 10_000 })),
    }),
  },
  { additionalProperties: false },
);
export type InventoryReport = Static<typeof InventoryReportSchema>;
