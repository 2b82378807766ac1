import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

interface Failure extends Error {
  validation: { field: string; message: string };
}

function describe(errors: Array<{ keyword: string; instancePath: string; message: string; params: Record<string, unknown> }>) {
  // Prefer the most specific error: an unknown field or a wrong type deep in the document.
  const unknown = errors.find((e) => e.keyword === 'boolean' && e.message === 'schema is false');
  if (unknown) return { field: unknown.instancePath, message: `unknown field ${unknown.instancePath}` };
  const additional = errors.find((e) => e.keyword === 'additionalProperties');
  if (additional) {
    const names = (additional.params.additionalProperties as string[] | undefined) ?? [];
    const field = `${additional.instancePath}/${names[0] ?? ''}`;
    return { field, message: `unknown field ${field}` };
  }
  const deepest = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  if (!deepest) return { field: '', message: 'invalid value' };
  return { field: deepest.instancePath, message: `${deepest.instancePath || 'value'} ${deepest.message}` };
}

/**
 * Validation with TypeBox's compiler. Bodies are checked as sent (a string where a number is
 * expected is a 400, never silently converted); query strings and path parameters arrive as text,
 * so they are converted to the schema's types first.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const compiled = Compile(schema);
  const convert = httpPart !== 'body';
  return (data: unknown) => {
    const value = convert ? Value.Convert(schema, Value.Default(schema, Value.Clone(data ?? {}))) : data;
    if (compiled.Check(value)) return { value };
    const { field, message } = describe([...compiled.Errors(value)] as never);
    const error = new Error(message) as Failure;
    error.validation = { field: `${httpPart === 'body' ? '' : `${httpPart}:`}${field}`, message };
    return { error };
  };
};
