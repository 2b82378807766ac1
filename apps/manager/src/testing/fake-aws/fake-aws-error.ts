/** An error the fake answers in the service's own error format (XML for Query, JSON for WAFv2). */
export class FakeAwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
