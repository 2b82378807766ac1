/**
 * The one error shape of the API: `{ statusCode, code, error, message, field? }`. Codes are
 * stable and listed in docs/errors/manager.md; clients branch on `code`, never on `message`.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'API_NOT_FOUND', `${what} not found`);
export const forbidden = (message = 'your role does not allow this') => new ApiError(403, 'AUTH_FORBIDDEN', message);
