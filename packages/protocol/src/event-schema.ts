import { type Static, Type } from 'typebox';
import { EVENT_SOURCES, SEVERITIES } from './module-names.ts';

/**
 * One event, as an agent produces it. The id is chosen by the agent (a UUID) so that re-sending a
 * batch after a lost acknowledgement never stores an event twice.
 */
export const AgentEventSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    time: Type.String({ format: 'date-time' }),
    module: Type.Enum(EVENT_SOURCES),
    type: Type.String({ minLength: 1, maxLength: 100 }),
    severity: Type.Enum(SEVERITIES),
    ruleId: Type.Optional(Type.String({ maxLength: 200 })),
    message: Type.String({ maxLength: 4000 }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type AgentEvent = Static<typeof AgentEventSchema>;

export const EventBatchSchema = Type.Object({ events: Type.Array(AgentEventSchema, { maxItems: 1000 }) }, { additionalProperties: false });
export type EventBatch = Static<typeof EventBatchSchema>;

export const EventBatchAckSchema = Type.Object({
  /** Every id of the batch that is now stored (new or already there): the agent may drop them. */
  acked: Type.Array(Type.String()),
  inserted: Type.Integer(),
  duplicates: Type.Integer(),
});
export type EventBatchAck = Static<typeof EventBatchAckSchema>;
