import { Type } from 'typebox';

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
export const Name = Type.String({ minLength: 1, maxLength: 200 });
export type IdParamsT = { id: string };
