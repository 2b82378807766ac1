import { type Static, Type } from 'typebox';

/**
 * OSV 1.x (https://ossf.github.io/osv-schema/), as much as matching needs. Unknown properties
 * are allowed on purpose: the schema grows in minor versions (1.2 -> 1.7 in the shared sample)
 * and a new optional field must not make a feed unreadable.
 */
const Str = Type.String();
const StrList = Type.Array(Type.String());

export const OsvEventSchema = Type.Object({
  introduced: Type.Optional(Str),
  fixed: Type.Optional(Str),
  last_affected: Type.Optional(Str),
  limit: Type.Optional(Str),
});
export type OsvEvent = Static<typeof OsvEventSchema>;

export const OsvRangeSchema = Type.Object({
  type: Type.String({ minLength: 1 }),
  repo: Type.Optional(Str),
  events: Type.Array(OsvEventSchema, { minItems: 1 }),
  database_specific: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type OsvRange = Static<typeof OsvRangeSchema>;

export const OsvSeveritySchema = Type.Object({ type: Str, score: Str });
export type OsvSeverity = Static<typeof OsvSeveritySchema>;

export const OsvPackageSchema = Type.Object({
  ecosystem: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  purl: Type.Optional(Str),
});

export const OsvAffectedSchema = Type.Object({
  package: Type.Optional(OsvPackageSchema),
  severity: Type.Optional(Type.Array(OsvSeveritySchema)),
  ranges: Type.Optional(Type.Array(OsvRangeSchema)),
  versions: Type.Optional(StrList),
  ecosystem_specific: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  database_specific: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type OsvAffected = Static<typeof OsvAffectedSchema>;

export const OsvRecordSchema = Type.Object({
  schema_version: Type.Optional(Str),
  id: Type.String({ minLength: 1 }),
  modified: Str,
  published: Type.Optional(Str),
  withdrawn: Type.Optional(Str),
  aliases: Type.Optional(StrList),
  upstream: Type.Optional(StrList),
  related: Type.Optional(StrList),
  summary: Type.Optional(Str),
  details: Type.Optional(Str),
  severity: Type.Optional(Type.Array(OsvSeveritySchema)),
  affected: Type.Optional(Type.Array(OsvAffectedSchema)),
  references: Type.Optional(Type.Array(Type.Object({ type: Str, url: Str }))),
  database_specific: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type OsvRecord = Static<typeof OsvRecordSchema>;
