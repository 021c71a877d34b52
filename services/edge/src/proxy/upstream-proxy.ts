// The reverse proxy of the edge: one undici keep-alive pool to the upstream, request and
// response bodies streamed (never buffered), hop-by-hop headers dropped in both directions.
//
// It works on node's own request/response objects rather than on fetch Request/Response: the
// incoming socket is piped straight into undici and undici's body straight into the socket, which
// is what keeps a 20 MB upload or download from ever sitting in the edge's memory.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
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
}

export type ProxyOutcome =
  | { kind: "response"; statusCode: number }
  /** The upstream could not be reached or broke the connection before answering: 502. */
  | { kind: "unreachable"; statusCode: 502; error: Error }
  /** The upstream did not answer in time: 504. */
  | { kind: "timeout"; statusCode: 504; error: Error }
  /** The client went away before the exchange finished. */
  | { kind: "aborted"; statusCode: number; error?: Error };

export interface ForwardOptions {
  /** Added to (and replacing) the request headers sent upstream, e.g. identity headers. */
  requestHeaders?: Record<string, string>;
  /** Added to the response sent to the client, e.g. rate-limit headers, also on 502/504. */
  responseHeaders?: Record<string, string>;
  /** The client's address, appended to X-Forwarded-For. */
  clientIp: string;
  /** Called once the upstream answered (headers), before the body streams. */
  onUpstreamHeaders?: (statusCode: number) => void;
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

/** The headers sent upstream: hop-by-hop and edge-owned fields removed, forwarding fields added. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  { clientIp, proto, extra = {} }: { clientIp: string; proto: string; extra?: Record<string, string> },
): Record<string, string | string[]> {
  const listed = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (DROPPED_REQUEST.has(name) || listed.has(name) || name.startsWith(IDENTITY_HEADER_PREFIX)) continue;
    if (name === "x-forwarded-for" || name === "x-forwarded-proto" || name === "x-forwarded-host") continue;
    out[name] = value;
  }
  const prior = incoming["x-forwarded-for"];
  const priorList = Array.isArray(prior) ? prior.join(", ") : prior;
  out["x-forwarded-for"] = priorList ? `${priorList}, ${clientIp}` : clientIp;
  out["x-forwarded-proto"] = proto;
  if (incoming.host !== undefined) out["x-forwarded-host"] = incoming.host;
  for (const [name, value] of Object.entries(extra)) out[name.toLowerCase()] = value;
  return out;
}

/** The upstream's response headers minus hop-by-hop fields (node frames the body itself). */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  extra: Record<string, string> = {},
): OutgoingHttpHeaders {
  const listed = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) out[name] = value;
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

export function createUpstreamProxy({
  upstreamUrl,
  timeoutMs = 30_000,
  connections = 128,
  keepAliveTimeoutMs = 4_000,
}: UpstreamProxyOptions): UpstreamProxy {
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
      const hasBody =
        req.headers["transfer-encoding"] !== undefined ||
        (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");
      const proto = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
      const abort = new AbortController();
      // The client hung up: stop talking to the upstream too.
      const onClientClose = () => {
        if (!res.writableFinished) abort.abort(new Error("client closed the connection"));
      };
      res.once("close", onClientClose);
      try {
        const upstream = await pool.request({
          path: basePath + (req.url ?? "/"),
          method: req.method as "GET",
          headers: upstreamRequestHeaders(req.headers, { clientIp, proto, extra: requestHeaders }),
          body: hasBody ? req : null,
          signal: abort.signal,
        });
        onUpstreamHeaders?.(upstream.statusCode);
        res.writeHead(upstream.statusCode, clientResponseHeaders(upstream.headers, responseHeaders));
        try {
          await pipeline(upstream.body, res);
        } catch (error) {
          // Headers are out: all that is left is to cut the connection so the client sees it.
          res.destroy();
          if (abort.signal.aborted) return { kind: "aborted", statusCode: upstream.statusCode };
          if (isTimeout(error)) return { kind: "timeout", statusCode: 504, error: error as Error };
          return { kind: "unreachable", statusCode: 502, error: error as Error };
        }
        return { kind: "response", statusCode: upstream.statusCode };
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        if (abort.signal.aborted) {
          res.destroy();
          return { kind: "aborted", statusCode: 499, error: err };
        }
        if (isTimeout(error)) {
          sendJsonError(res, 504, "Upstream timed out", responseHeaders);
          return { kind: "timeout", statusCode: 504, error: err };
        }
        sendJsonError(res, 502, "Upstream unavailable", responseHeaders);
        return { kind: "unreachable", statusCode: 502, error: err };
      } finally {
        res.off("close", onClientClose);
      }
    },
    close: () => pool.close(),
  };
}
