import { type Static, Type } from 'typebox';

/**
 * Event-based tasks: when something happens to a computer (its agent activates, cloud sync
 * discovers it), conditions on its attributes decide which actions run.
 */
export const EVENT_TASK_TRIGGERS = ['agent-activated', 'cloud-discovered'] as const;
export type EventTaskTrigger = (typeof EVENT_TASK_TRIGGERS)[number];

export const EventTaskConditionSchema = Type.Object(
  {
    field: Type.String({ pattern: '^(hostname|platform|tag:.{1,128})$' }),
    /** A regular expression (JavaScript syntax) the value must match. */
    regex: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export type EventTaskCondition = Static<typeof EventTaskConditionSchema>;

export const EventTaskActionSchema = Type.Union([
  Type.Object({ type: Type.Literal('assign-policy'), policyId: Type.String() }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('assign-group'), group: Type.String({ minLength: 1, maxLength: 200 }) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('deactivate') }, { additionalProperties: false }),
]);
export type EventTaskAction = Static<typeof EventTaskActionSchema>;

export interface TaskSubject {
  hostname: string;
  platform: string;
  tags: Record<string, string>;
}

export function conditionsMatch(subject: TaskSubject, conditions: readonly EventTaskCondition[]): boolean {
  return conditions.every((c) => {
    const value = c.field.startsWith('tag:') ? subject.tags[c.field.slice(4)] : subject[c.field as 'hostname' | 'platform'];
    return value !== undefined && new RegExp(c.regex).test(value);
  });
}

/** The index of the first condition whose regex does not compile, for a 400 with its field. */
export function invalidRegexIndex(conditions: readonly EventTaskCondition[]): number {
  return conditions.findIndex((c) => {
    try {
      new RegExp(c.regex);
      return false;
    } catch {
      return true;
    }
  });
}
