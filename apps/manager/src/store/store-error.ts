/**
 * A domain error raised by the store for a request that cannot be carried out as asked; the
 * HTTP layer maps its code to a status. The codes are listed in docs/errors/manager.md.
 */
export class StoreError extends Error {
  constructor(
    readonly code: 'STORE_NOT_FOUND' | 'STORE_CONFLICT' | 'STORE_POLICY_CYCLE' | 'STORE_IN_USE' | 'STORE_INVALID_REFERENCE',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
