import createClient, { type Client } from "openapi-fetch";

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
  /**
   * The admin token or an operator's, or where to find it at each call (the console: the token
   * of the operator whose page is being made).
   */
  adminToken: string | (() => string);
  /**
   * Headers added to every request, asked for anew at each call (not each retry): what the caller
   * says about itself, such as who made a change.
   */
  headers?: () => Record<string, string>;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** How long one attempt may take before it is abandoned (default 30 s). */
  timeoutMs?: number;
  /** Attempts after the first, for answers worth trying again (default 2). */
  retries?: number;
  /** The first wait between attempts, doubled each time (default 250 ms); a Retry-After overrides it. */
  retryDelayMs?: number;
  /** The longest wait; a Retry-After beyond it is not waited out (default 30 s). */
  maxRetryDelayMs?: number;
  /** Waits between attempts; a seam for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Methods whose repetition changes nothing more than the first call: safe to send again after a 5xx. */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE"]);

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The `fetch` of a client: the admin token on every request, a timeout per attempt, and retries
 * with exponential backoff. A 429 is tried again whatever the method (the service refused it
 * before doing anything), after the Retry-After it names; a 5xx or an unreachable service only
 * for idempotent methods, since a POST that failed late may have taken effect. An unreachable
 * service or a timeout is an Error that names the service ("cannot reach the keys service...").
 */
export function createApiFetch({
  service,
  adminToken,
  headers: extraHeaders,
  fetch: doFetch = (input, init) => fetch(input, init),
  timeoutMs = 30_000,
  retries = 2,
  retryDelayMs = 250,
  maxRetryDelayMs = 30_000,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}: Omit<ApiClientOptions, "baseUrl"> & { service: string }) {
  return async function apiFetch(request: Request): Promise<Response> {
    const body = request.body === null ? undefined : await request.text();
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(extraHeaders?.() ?? {})) headers.set(name, value);
    headers.set("authorization", `Bearer ${typeof adminToken === "function" ? adminToken() : adminToken}`);
    const origin = new URL(request.url).origin;
    for (let attempt = 0; ; attempt++) {
      const backoff = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** attempt);
      const canRetry = attempt < retries;
      let response: Response;
      try {
        response = await doFetch(request.url, {
          method: request.method,
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (canRetry && IDEMPOTENT.has(request.method)) {
          await sleep(backoff);
          continue;
        }
        const reason =
          (error as Error)?.name === "TimeoutError"
            ? `no answer within ${timeoutMs} ms`
            : String((error as Error)?.cause ?? error);
        throw new Error(`cannot reach the ${service} service at ${origin}: ${reason}`);
      }
      const retriable = response.status === 429 || (response.status >= 500 && IDEMPOTENT.has(request.method));
      if (!canRetry || !retriable) return response;
      const wait = retryAfterMs(response.headers.get("retry-after")) ?? backoff;
      if (wait > maxRetryDelayMs) return response;
      await response.body?.cancel();
      await sleep(wait);
    }
  };
}

/** A typed client of one service's API (openapi-fetch over the generated `paths`). */
export function createTypedClient<Paths extends {}>(
  options: ApiClientOptions & { service: string },
): Client<Paths> {
  const apiFetch = createApiFetch(options);
  return createClient<Paths>({ baseUrl: options.baseUrl, fetch: apiFetch, querySerializer: queryString });
}

/** The query string of the defined parameters (`a=1&b=x`): undefined and "" are left out. */
function queryString(params: Record<string, unknown>): string {
  const entries = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]): [string, string] => [k, String(v)]);
  return new URLSearchParams(entries).toString();
}

/** The data of a 2xx answer; an error answer throws ApiError. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error);
  return data as T;
}

/** A list answer: `{items, nextCursor}`. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Every item of a cursor-paginated list, fetching the next page only when the last one is used up. */
export async function* paginate<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
