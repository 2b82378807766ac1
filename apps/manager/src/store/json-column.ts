/** JSON documents are stored as text so the same column works on SQLite and PostgreSQL. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
