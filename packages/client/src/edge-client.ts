// `@apimon/client/edge`: for applications that call an API through the apimon edge. It depends
// on nothing but the platform's fetch, so it runs in Node and in browsers alike.

/** One rate-limit window as the edge reported it on the last answer. */
export interface QuotaWindow {
  limit: number;
  remaining: number;
  /** Seconds until the window resets, counted from when the answer arrived. */
  resetSeconds: number;
}

/** The key's quota after a call: the spec's `X-RateLimit-{Minute,Hour,Day}-*` headers. */
export interface Quota {
  minute: QuotaWindow;
  hour: QuotaWindow;
  day: QuotaWindow;
  /** The fewest requests left in any window: how many more calls may go out now. */
  remaining: number;
}

export interface RateLimitedInfo {
  /** How long the client waits before sending the request again. */
  waitMs: number;
  /** 1 for the first wait of this request, 2 for the second, ... */
  attempt: number;
  response: Response;
  quota: Quota | undefined;
}

export interface EdgeClientOptions {
  /** The API key, sent as `X-API-Key` on every request. */
  apiKey: string;
  /** Resolves relative request paths (`/api/users`), e.g. `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** How many times one request waits out a 429 and is sent again (default 3; 0 never waits). */
  maxRetries?: number;
  /**
   * The longest `Retry-After` the client waits out (default 60 s). A 429 asking for longer is
   * handed back to the caller at once rather than holding the request for minutes or hours.
   */
  maxWaitMs?: number;
  /** Called before each wait, e.g. to log it. */
  onRateLimited?: (info: RateLimitedInfo) => void;
  fetch?: typeof fetch;
}

export interface EdgeClient {
  /**
   * `fetch` through the edge: adds the key, records the quota from the answer's headers, and
   * on a 429 with `Retry-After` waits that long and sends the request again (bounded by
   * `maxRetries` and `maxWaitMs`; `init.signal` aborts the wait too). Any other answer, and a
   * 429 it does not wait out, is returned as is.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The quota from the most recent answer that carried rate-limit headers. */
  readonly quota: Quota | undefined;
}

const WINDOWS = ["minute", "hour", "day"] as const;
const TITLE = { minute: "Minute", hour: "Hour", day: "Day" } as const;

/** The quota in an answer's headers, or undefined when it has none (e.g. a 401). */
export function readQuota(headers: Headers): Quota | undefined {
  const windows: Partial<Record<(typeof WINDOWS)[number], QuotaWindow>> = {};
  for (const w of WINDOWS) {
    const read = (field: string) => Number(headers.get(`X-RateLimit-${TITLE[w]}-${field}`) ?? Number.NaN);
    const window = { limit: read("Limit"), remaining: read("Remaining"), resetSeconds: read("Reset") };
    if (!Object.values(window).every(Number.isFinite)) return undefined;
    windows[w] = window;
  }
  const { minute, hour, day } = windows as Record<(typeof WINDOWS)[number], QuotaWindow>;
  return { minute, hour, day, remaining: Math.min(minute.remaining, hour.remaining, day.remaining) };
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("Retry-After")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A client for API consumers calling through the apimon edge. */
export function createEdgeClient({
  apiKey,
  baseUrl,
  maxRetries = 3,
  maxWaitMs = 60_000,
  onRateLimited,
  fetch: doFetch = globalThis.fetch,
}: EdgeClientOptions): EdgeClient {
  let quota: Quota | undefined;

  async function edgeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const original = input instanceof Request ? input : new Request(new URL(input, baseUrl), init);
    // A stream can be read only once: such a request is never sent twice.
    const replayable = !(init.body instanceof ReadableStream);
    const signal = init.signal ?? original.signal;
    for (let attempt = 1; ; attempt++) {
      const request = new Request(original.clone(), input instanceof Request ? init : {});
      request.headers.set("X-API-Key", apiKey);
      const response = await doFetch(request);
      quota = readQuota(response.headers) ?? quota;
      if (response.status !== 429 || attempt > maxRetries || !replayable) return response;
      const waitMs = retryAfterMs(response.headers);
      if (waitMs === undefined || waitMs > maxWaitMs) return response;
      onRateLimited?.({ waitMs, attempt, response, quota: readQuota(response.headers) });
      // The 429's body is not needed: free the connection before waiting.
      await response.body?.cancel();
      await sleep(waitMs, signal);
    }
  }

  return {
    fetch: edgeFetch,
    get quota() {
      return quota;
    },
  };
}
