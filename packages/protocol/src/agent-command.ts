import { type Static, Type } from 'typebox';

/**
 * Commands the manager sends to an agent. `update-config` asks for an immediate config fetch;
 * modules add their own kinds (e.g. `malware-scan`) and an agent answers an unknown kind with a
 * failed result instead of ignoring it.
 */
export const COMMAND_KINDS = ['update-config', 'send-inventory', 'scan-now', 'recommendation-scan', 'ping'] as const;

export const AgentCommandSchema = Type.Object({
  id: Type.String(),
  kind: Type.String({ minLength: 1, maxLength: 100 }),
  args: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
});
export type AgentCommand = Static<typeof AgentCommandSchema>;

export const CommandPollResponseSchema = Type.Object({ commands: Type.Array(AgentCommandSchema) });
export type CommandPollResponse = Static<typeof CommandPollResponseSchema>;

export const CommandResultSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type CommandResult = Static<typeof CommandResultSchema>;
