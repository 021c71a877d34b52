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
}

/** Where an admin API is and the bearer token it takes; `fetch` can be replaced in tests. */
export interface AdminClientOptions {
  baseUrl: string;
  adminToken: string;
  fetch?: typeof fetch;
}

export interface AdminCallOptions extends AdminClientOptions {
  /** Named in the error when the service cannot be reached ("the keys service"). */
  service: string;
}

/** One JSON request to an admin API with the bearer token; non-2xx answers throw {@link ApiError}. */
export function createAdminCall({ service, baseUrl, adminToken, fetch: doFetch = fetch }: AdminCallOptions) {
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
      throw new Error(`cannot reach ${service} at ${url.origin}: ${(error as Error).cause ?? error}`);
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed as T;
  };
}
