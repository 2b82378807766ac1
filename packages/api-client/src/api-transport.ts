/** How the client reaches the manager: fetch in a browser, node:https with a CA in the CLI. */
export type ApiTransport = (req: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<{ status: number; body: string }>;

/** A transport over the standard fetch (browsers, or Node when the CA is publicly trusted). */
export const fetchTransport: ApiTransport = async (req) => {
  const res = await fetch(req.url, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}) });
  return { status: res.status, body: await res.text() };
};
