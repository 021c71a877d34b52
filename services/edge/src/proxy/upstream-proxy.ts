// The reverse proxy of the edge: one undici keep-alive pool to the upstream, request and
// response bodies streamed (never buffered), hop-by-hop headers dropped in both directions.
//
// It works on node's own request/response objects rather than on fetch Request/Response: the
// incoming socket is piped straight into undici and undici's body straight into the socket, which
// is what keeps a 20 MB upload or download from ever sitting in the edge's memory.
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeader, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { Pool, errors as undiciErrors } from "undici";

export interface UpstreamProxyOptions {
  /** Origin and optional base path, e.g. `http://127.0.0.1:8090` or `http://api:9000/v2`. */
  upstreamUrl: string;
  /** Until the upstream's response headers arrive, and between body chunks. */
  timeoutMs?: number;
  /** Keep-alive connections in the pool. */
  connections?: number;
  /** Idle keep-alive sockets are closed after this long. */
  keepAliveTimeoutMs?: number;
  /** Longest wait for a free connection when every one is busy: then 503 Upstream busy. */
  poolWaitMs?: number;
  /** One deadline for the whole exchange, from forwarding to the last byte sent to the client. */
  exchangeTimeoutMs?: number;
  /** Largest request body streamed upstream; a larger chunked body ends the exchange with 413. */
  maxBodyBytes?: number;
  /** Keep an incoming X-Forwarded-Proto: only behind proxies the edge trusts. */
  trustForwardedProto?: boolean;
}

export type ProxyOutcome =
  | { kind: "response"; statusCode: number }
  /** The upstream could not be reached or broke the connection before answering: 502. */
  | { kind: "unreachable"; statusCode: 502; error: Error }
  /** The upstream did not answer in time: 504. */
  | { kind: "timeout"; statusCode: 504; error: Error }
  /** The client went away before the exchange finished. */
  | { kind: "aborted"; statusCode: number; error?: Error }
  /** No upstream connection became free within the pool wait: 503. */
  | { kind: "busy"; statusCode: 503; error?: Error }
  /** The request body grew past the limit while streaming: 413. */
  | { kind: "too_large"; statusCode: 413; error?: Error };

export interface ForwardOptions {
  /** Added to (and replacing) the request headers sent upstream, e.g. identity headers. */
  requestHeaders?: Record<string, string>;
  /** Added to the response sent to the client, e.g. rate-limit headers, also on 502/504. */
  responseHeaders?: Record<string, string>;
  /** The client's address, appended to X-Forwarded-For. */
  clientIp: string;
  /**
   * Called once the upstream answered (headers), before the body streams, with the seconds since
   * `forward` was called. One function for every request: nothing is made per call to time it.
   */
  onUpstreamHeaders?: (seconds: number) => void;
}

export interface UpstreamProxy {
  /** Forwards one request and streams the answer; never throws, answers 502/504 itself. */
  forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): Promise<ProxyOutcome>;
  close(): Promise<void>;
}

/** RFC 9110 § 7.6.1 hop-by-hop fields, plus ones that must not cross the proxy. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Request fields the edge owns or that undici sets itself. */
const DROPPED_REQUEST = new Set([
  ...HOP_BY_HOP,
  "host",
  // The credential stays at the edge: the upstream gets identity headers instead.
  "x-api-key",
  // Client-written claims about the client's address; the edge sends X-Forwarded-For instead.
  "forwarded",
  "x-real-ip",
  // node answers 100-continue itself; undici refuses the field.
  "expect",
]);

/** Identity headers are set by the edge only; a client cannot smuggle its own. */
export const IDENTITY_HEADER_PREFIX = "x-apimon-";

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const tokens = new Set<string>();
  if (value === undefined) return tokens;
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const token of part.split(",")) {
      const t = token.trim().toLowerCase();
      if (t) tokens.add(t);
    }
  }
  return tokens;
}

/*
 * Both header sets are built as flat [name, value, name, value, …] lists, which undici and node's
 * writeHead take as they are. An object built field by field takes a new hidden class per added
 * name, and its readers look each field up by a name that changes from one field to the next:
 * V8's slowest property paths, on every request. The edge's own fields (`extra`, an object literal
 * of one shape) are read in a for-in over that object, which V8 turns into loads by position in
 * its layout instead of lookups by name. Only its own fields: a property someone added to
 * Object.prototype must not become a header (V8 answers hasOwnProperty in a for-in from the same
 * layout, Object.hasOwn by a lookup).
 */

const isOwnProperty = Object.prototype.hasOwnProperty;

/**
 * The scheme the client used, for X-Forwarded-Proto: the connection's own, or behind proxies the
 * edge trusts the one they forwarded.
 */
export function clientProto(req: IncomingMessage, trustForwardedProto: boolean): "http" | "https" {
  const forwarded = trustForwardedProto ? req.headers["x-forwarded-proto"] : undefined;
  if (forwarded === "https" || forwarded === "http") return forwarded;
  return (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
}

/** The headers sent upstream: hop-by-hop and edge-owned fields removed, forwarding fields added. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  { clientIp, proto, extra = {} }: { clientIp: string; proto: string; extra?: Record<string, string> },
): string[] {
  const listed = connectionTokens(incoming.connection);
  const out: string[] = [];
  const names = Object.keys(incoming);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = incoming[name];
    if (value === undefined) continue;
    if (DROPPED_REQUEST.has(name) || listed.has(name) || name.startsWith(IDENTITY_HEADER_PREFIX)) continue;
    if (name === "x-forwarded-for" || name === "x-forwarded-proto" || name === "x-forwarded-host") continue;
    if (typeof value === "string") out.push(name, value);
    else for (const each of value) out.push(name, each);
  }
  const prior = incoming["x-forwarded-for"];
  const priorList = Array.isArray(prior) ? prior.join(", ") : prior;
  out.push("x-forwarded-for", priorList ? `${priorList}, ${clientIp}` : clientIp);
  out.push("x-forwarded-proto", proto);
  if (incoming.host !== undefined) out.push("x-forwarded-host", incoming.host);
  for (const name in extra)
    if (isOwnProperty.call(extra, name)) out.push(name.toLowerCase(), extra[name] as string);
  return out;
}

/** The upstream's response headers minus hop-by-hop fields (node frames the body itself), then `extra`. */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  extra: Record<string, string> = {},
): OutgoingHttpHeader[] {
  const listed = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeader[] = [];
  const names = Object.keys(upstream);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out.push(name, value);
  }
  for (const name in extra) if (isOwnProperty.call(extra, name)) out.push(name, extra[name] as string);
  return out;
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof undiciErrors.HeadersTimeoutError ||
    error instanceof undiciErrors.BodyTimeoutError ||
    error instanceof undiciErrors.ConnectTimeoutError
  );
}

/** Writes a `{"detail"}` JSON error unless the response already started. */
export function sendJsonError(
  res: ServerResponse,
  statusCode: number,
  detail: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ detail });
  res.writeHead(statusCode, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Answers while the request body may still be arriving, then closes the connection instead of
 * reading the rest. Reading stops at once (node would otherwise drain the body to reuse the
 * connection); the close waits a moment so that the client reads the answer before the reset
 * that unread data causes.
 */
export function sendJsonErrorAndClose(
  req: IncomingMessage,
  res: ServerResponse,
  statusCode: number,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const socket = res.socket ?? req.socket;
  if (!socket) return void res.destroy();
  socket.pause();
  if (!res.headersSent && !res.destroyed) res.setHeader("connection", "close");
  // node destroys the socket as soon as a closing answer is written; with request bytes unread
  // that is a TCP reset, which can reach the client before it reads the answer. Half-close
  // instead (the client sees the answer, then the end), and destroy after a grace period.
  (socket as { destroySoon?: () => void }).destroySoon = () => socket.end();
  sendJsonError(res, statusCode, detail, headers);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

const CLOSE_GRACE_MS = 1000;

export const UPSTREAM_TIMEOUT_DETAIL = "Upstream timed out";
export const UPSTREAM_UNAVAILABLE_DETAIL = "Upstream unavailable";
export const UPSTREAM_BUSY_DETAIL = "Upstream busy";
export const BODY_TOO_LARGE_DETAIL = "Request body too large";

class ExchangeTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`exchange exceeded ${timeoutMs} ms`);
    this.name = "ExchangeTimeoutError";
  }
}

class BodyTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`request body exceeds ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** The exchange was cut short: 504 when the deadline passed (the client is told), else 499. */
function abortedOrTimedOut(
  req: IncomingMessage,
  res: ServerResponse,
  timedOut: boolean,
  statusCode: number,
  responseHeaders: Record<string, string>,
  error?: Error,
): ProxyOutcome {
  if (timedOut) {
    // The body may still be arriving (a slow upload): answer, then close.
    sendJsonErrorAndClose(req, res, 504, UPSTREAM_TIMEOUT_DETAIL, responseHeaders);
    return { kind: "timeout", statusCode: 504, error: error ?? new Error("exchange deadline") };
  }
  res.destroy();
  return { kind: "aborted", statusCode, error };
}

/** A chunked body passed on chunk by chunk until it grows past `maxBytes`. */
function boundedBody(req: IncomingMessage, maxBytes: number): { body: Readable; tooLarge(): boolean } {
  let exceeded = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    let total = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        exceeded = true;
        throw new BodyTooLargeError(maxBytes);
      }
      yield chunk;
    }
  }
  return { body: Readable.from(chunks()), tooLarge: () => exceeded };
}

/**
 * The abort signal of one exchange in the form undici also accepts: an EventEmitter with
 * `aborted` and `reason`. An AbortController builds an EventTarget per request, with the
 * listener bookkeeping that goes with it; nothing here needs more than one event.
 */
class ExchangeAbort extends EventEmitter {
  aborted = false;
  reason: Error | undefined;

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit("abort");
  }
}

/**
 * Streams the upstream's body into the client's response; settles when the response finished
 * (resolves) or when either side failed or the exchange was aborted first (rejects; the body is
 * destroyed). A client going away arrives as the exchange's abort: `forward` aborts on the
 * response's `close`. What `stream/promises` `pipeline` does for two streams, without the
 * AbortController it creates and aborts for every call, whose DOMException cost more than the
 * rest of the piping.
 */
function streamBody(body: Readable, res: ServerResponse, abort: ExchangeAbort): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      abort.off("abort", onAbort);
      body.destroy();
      reject(error);
    };
    // Aborting the upstream request destroys a body still arriving. A body that has ended may
    // still sit in the response's buffer behind a client that stopped reading: only the exchange
    // settling frees its slot then.
    const onAbort = () => fail(abort.reason ?? new Error("exchange aborted"));
    if (abort.aborted) return onAbort();
    abort.on("abort", onAbort);
    // Both listeners stay: an error after settling is already accounted for.
    body.on("error", fail);
    res.on("error", fail);
    body.on("close", () => {
      if (!body.readableEnded) fail(new Error("upstream body closed before its end"));
    });
    res.on("finish", () => {
      if (settled) return;
      settled = true;
      abort.off("abort", onAbort);
      resolve();
    });
    body.pipe(res);
  });
}

/**
 * At most `size` holders at once; the rest wait in FIFO order for at most `waitMs`. The common
 * case (a free slot) is a counter increment. undici queues without bound when every connection
 * is busy, so the edge keeps its own count of the pool's connections in use.
 */
function createSlots(size: number, waitMs: number) {
  let inUse = 0;
  const waiting: Array<{ grant: (ok: boolean) => void; done: boolean }> = [];
  let head = 0;
  return {
    /** Resolves true once a slot is held, false when none freed up in time. */
    acquire(): boolean | Promise<boolean> {
      if (inUse < size && head === waiting.length) {
        inUse += 1;
        return true;
      }
      return new Promise<boolean>((resolve) => {
        const waiter = {
          done: false,
          grant: (ok: boolean) => {
            if (waiter.done) return;
            waiter.done = true;
            clearTimeout(timer);
            resolve(ok);
          },
        };
        const timer = setTimeout(() => waiter.grant(false), waitMs);
        waiting.push(waiter);
      });
    },
    release(): void {
      while (head < waiting.length) {
        const next = waiting[head] as (typeof waiting)[number];
        waiting[head] = undefined as never;
        head += 1;
        if (!next.done) {
          next.grant(true);
          if (head > 1024 && head * 2 > waiting.length) {
            waiting.splice(0, head);
            head = 0;
          }
          return;
        }
      }
      waiting.length = 0;
      head = 0;
      inUse -= 1;
    },
  };
}

export function createUpstreamProxy({
  upstreamUrl,
  timeoutMs = 30_000,
  connections = 128,
  keepAliveTimeoutMs = 4_000,
  poolWaitMs = 5_000,
  exchangeTimeoutMs = 60_000,
  maxBodyBytes = Number.POSITIVE_INFINITY,
  trustForwardedProto = false,
}: UpstreamProxyOptions): UpstreamProxy {
  const slots = createSlots(connections, poolWaitMs);
  const base = new URL(upstreamUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const pool = new Pool(base.origin, {
    connections,
    keepAliveTimeout: keepAliveTimeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connectTimeout: Math.min(timeoutMs, 10_000),
  });

  return {
    async forward(req, res, { requestHeaders, responseHeaders = {}, clientIp, onUpstreamHeaders }) {
      const startedMs = onUpstreamHeaders ? performance.now() : 0;
      // The client hung up before the exchange began (while the edge awaited its rate-limit
      // decision): its 'close' has come and gone, so nothing below would ever hear of it, and an
      // exchange piped into the dead response would hold its upstream connection for good.
      if (res.destroyed) return { kind: "aborted", statusCode: 499 };
      const chunked = req.headers["transfer-encoding"] !== undefined;
      const hasBody =
        chunked || (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");
      const proto = clientProto(req, trustForwardedProto);
      const abort = new ExchangeAbort();
      // The client hung up: stop talking to the upstream too.
      const onClientClose = () => {
        if (!res.writableFinished) abort.abort(new Error("client closed the connection"));
      };
      res.once("close", onClientClose);
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        abort.abort(new ExchangeTimeoutError(exchangeTimeoutMs));
      }, exchangeTimeoutMs);
      let holdsSlot = false;
      let bounded: ReturnType<typeof boundedBody> | undefined;
      try {
        const granted = slots.acquire();
        holdsSlot = granted === true || (await granted);
        if (!holdsSlot) {
          if (abort.aborted) return abortedOrTimedOut(req, res, timedOut, 499, responseHeaders);
          sendJsonErrorAndClose(req, res, 503, UPSTREAM_BUSY_DETAIL, responseHeaders);
          return { kind: "busy", statusCode: 503 };
        }
        bounded = chunked ? boundedBody(req, maxBodyBytes) : undefined;
        const upstream = await pool.request({
          path: basePath + (req.url ?? "/"),
          method: req.method as "GET",
          headers: upstreamRequestHeaders(req.headers, { clientIp, proto, extra: requestHeaders }),
          body: bounded ? bounded.body : hasBody ? req : null,
          signal: abort,
        });
        onUpstreamHeaders?.((performance.now() - startedMs) / 1000);
        if (bounded?.tooLarge()) {
          // The upstream answered a body cut short (often with an error of its own): not its fault.
          upstream.body.destroy();
          sendJsonErrorAndClose(req, res, 413, BODY_TOO_LARGE_DETAIL, responseHeaders);
          return { kind: "too_large", statusCode: 413 };
        }
        res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, responseHeaders));
        try {
          await streamBody(upstream.body, res, abort);
        } catch (error) {
          // Headers are out: all that is left is to cut the connection so the client sees it.
          res.destroy();
          if (bounded?.tooLarge()) return { kind: "too_large", statusCode: 413, error: error as Error };
          if (timedOut) return { kind: "timeout", statusCode: 504, error: error as Error };
          if (abort.aborted) return { kind: "aborted", statusCode: upstream.statusCode };
          if (isTimeout(error)) return { kind: "timeout", statusCode: 504, error: error as Error };
          return { kind: "unreachable", statusCode: 502, error: error as Error };
        }
        return { kind: "response", statusCode: upstream.statusCode };
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        if (abort.aborted) return abortedOrTimedOut(req, res, timedOut, 499, responseHeaders, err);
        if (bounded?.tooLarge()) {
          sendJsonErrorAndClose(req, res, 413, BODY_TOO_LARGE_DETAIL, responseHeaders);
          return { kind: "too_large", statusCode: 413, error: err };
        }
        if (isTimeout(error)) {
          sendJsonError(res, 504, UPSTREAM_TIMEOUT_DETAIL, responseHeaders);
          return { kind: "timeout", statusCode: 504, error: err };
        }
        sendJsonError(res, 502, UPSTREAM_UNAVAILABLE_DETAIL, responseHeaders);
        return { kind: "unreachable", statusCode: 502, error: err };
      } finally {
        clearTimeout(deadline);
        res.off("close", onClientClose);
        if (holdsSlot) slots.release();
      }
    },
    close: () => pool.close(),
  };
}
