import type { FastifyError, FastifyInstance } from 'fastify';
import { StoreError } from '../store/store-error.ts';
import { ApiError } from './api-error.ts';

const STORE_STATUS: Record<StoreError['code'], number> = {
  STORE_NOT_FOUND: 404,
  STORE_CONFLICT: 409,
  STORE_POLICY_CYCLE: 400,
  STORE_IN_USE: 409,
  STORE_INVALID_REFERENCE: 400,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Maps every failure to the API's error shape. Client mistakes get a 4xx with a stable code and,
 * where one field is at fault, that field; anything unexpected is a logged 500 that does not
 * leak internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validation?: unknown }, request, reply) => {
    let status = 500;
    let code = 'API_INTERNAL';
    let message = 'internal error';
    let field: string | undefined;
    if (err instanceof ApiError) {
      ({ statusCode: status, code, message, field } = err);
    } else if (err instanceof StoreError) {
      status = STORE_STATUS[err.code];
      code = err.code;
      message = err.message;
      field = err.field;
    } else if (err.validation) {
      const v = err.validation as { field?: string; message?: string } | Array<{ instancePath?: string; message?: string }>;
      status = 400;
      code = 'API_VALIDATION';
      if (Array.isArray(v)) {
        field = v[0]?.instancePath;
        message = err.message;
      } else {
        field = v.field;
        message = v.message ?? err.message;
      }
    } else if (
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      (err.statusCode === 400 && err instanceof SyntaxError)
    ) {
      status = 400;
      code = 'API_MALFORMED_JSON';
      message = 'the request body is not valid JSON';
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      code = 'API_UNSUPPORTED_MEDIA_TYPE';
      message = 'send application/json';
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      code = 'API_BODY_TOO_LARGE';
      message = 'the request body is too large';
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = 'API_BAD_REQUEST';
      message = err.message;
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    reply
      .status(status)
      .send({ statusCode: status, code, error: REASON[status] ?? 'Error', message, ...(field !== undefined ? { field } : {}) });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      statusCode: 404,
      code: 'API_ROUTE_NOT_FOUND',
      error: 'Not Found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    });
  });
}
