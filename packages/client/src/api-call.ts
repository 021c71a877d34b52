/** An error answer of the API: its status and the `{"detail"}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const detail = (body as { detail?: unknown })?.detail;
    super(`HTTP ${status}: ${typeof detail === "string" ? detail : JSON.stringify(body)}`);
    this.name = "ApiError";
  }

  /** The `{field, message}` list of a validation error (empty for other errors). */
  get fieldErrors(): { field: string; message: string }[] {
    const errors = (this.body as { errors?: unknown })?.errors;
    return Array.isArray(errors) ? (errors as { field: string; message: string }[]) : [];
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  adminToken: string;
  fetch?: typeof fetch;
}

/** A JSON call with the admin token; non-2xx answers throw ApiError, an unreachable service an Error naming it. */
export function createApiCaller({
  baseUrl,
  adminToken,
  fetch: doFetch = fetch,
  service,
}: ApiClientOptions & { service: string }) {
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, baseUrl);
    const res = await doFetch(url, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: unknown) => {
      throw new Error(
        `cannot reach the ${service} service at ${url.origin}: ${(error as Error).cause ?? error}`,
      );
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed as T;
  };
}

/** A query string of the defined parameters (`?a=1&b=x`), or "" when none is. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]): [string, string] => [k, String(v)]);
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}
